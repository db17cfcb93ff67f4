// Starts one real control plane for the control-plane run (scripts/controlplane.sh start: etcd,
// kube-apiserver, controller-manager, scheduler, kwok on loopback, state in a temp dir) and stops it
// after the last file. A control plane that cannot start fails the run loudly: never a skip.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The cluster admin's kubeconfig (YAML) of the control plane under test. */
    controlplaneKubeconfig: string;
    /** PEM of the CA that signed the API server's certificate. */
    controlplaneCaPem: string;
  }
}

const SCRIPT = resolve(import.meta.dirname, '../../scripts/controlplane.sh');

export default function setup(project: TestProject): () => void {
  const state = mkdtempSync(join(tmpdir(), 'governor-controlplane-'));
  const stop = () => {
    try {
      execFileSync('bash', [SCRIPT, 'stop', state], { stdio: 'inherit' });
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  };
  try {
    // The build is a separate step in CI (timed there); here it only runs when the cache is empty.
    // This process as the owner: should the run be killed, the script's watchdog stops the control plane.
    execFileSync('bash', [SCRIPT, 'start', state, String(process.pid)], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 60 * 60_000 });
  } catch (err) {
    stop();
    throw new Error(`the control plane did not start (scripts/controlplane.sh start): ${(err as Error).message}`);
  }
  project.provide('controlplaneKubeconfig', readFileSync(join(state, 'kubeconfig'), 'utf8'));
  project.provide('controlplaneCaPem', readFileSync(join(state, 'pki', 'ca.crt'), 'utf8'));
  return stop;
}
