// The Helm chart (deploy/helm/governor) rendered for the tests, with the real `helm` (installed by
// .ci/run with `go install`). A missing helm fails the test that needs it, saying how to get it:
// these tests are never skipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { REPO } from './dockerfile.ts';

export const CHART = join(REPO, 'deploy/helm/governor');
export const PHASES = ['observe', 'advise', 'assist', 'govern'] as const;
export type Phase = (typeof PHASES)[number];
export const HELM_VERSION = 'v4.3.2';

/** helm on PATH, else in Go's bin directory (where `go install` puts it). */
export function helmBinary(): string {
  const candidates = [
    ...(process.env['PATH'] ?? '').split(':').filter(Boolean).map((d) => join(d, 'helm')),
    join(process.env['GOPATH'] ?? join(homedir(), 'go'), 'bin', 'helm'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      `helm is not installed (looked in PATH and $GOPATH/bin). .ci/run installs it; by hand: ` +
        `cd /tmp && go install helm.sh/helm/v4/cmd/helm@${HELM_VERSION}`,
    );
  }
  return found;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface Rendered {
  yaml: string;
  objects: K8sObject[];
}

/** `helm template` of the chart with values-<phase>.yaml and any further arguments. */
export function renderChart(phase: Phase | undefined, args: string[] = [], release = 'governor', namespace = 'governor'): Rendered {
  const res = spawnSync(
    helmBinary(),
    ['template', release, CHART, '--namespace', namespace, ...(phase ? ['-f', join(CHART, `values-${phase}.yaml`)] : []), ...args],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (res.status !== 0) throw new Error(`helm template failed (${res.status}): ${res.stderr}`);
  const objects = (loadAll(res.stdout) as (K8sObject | null)[]).filter((o): o is K8sObject => o !== null);
  return { yaml: res.stdout, objects };
}

/** `helm lint` of the chart with values-<phase>.yaml: its output, throwing when it fails. */
export function lintChart(phase: Phase): string {
  return execFileSync(helmBinary(), ['lint', CHART, '-f', join(CHART, `values-${phase}.yaml`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export const byKind = (r: Rendered, kind: string): K8sObject[] => r.objects.filter((o) => o.kind === kind);

export function named(r: Rendered, kind: string, name: string): K8sObject {
  const o = r.objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in the rendered chart (have: ${byKind(r, kind).map((x) => x.metadata.name).join(', ')})`);
  return o;
}

export const secretData = (o: K8sObject, key: string): string => Buffer.from((o['data'] as Record<string, string>)[key]!, 'base64').toString('utf8');
