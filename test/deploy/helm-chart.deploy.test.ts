// The Helm chart rendered for every phase with the real helm, and what it renders checked against
// what the processes read: the phase file through the phase file's own parser, the tenants file
// through the tenants schema, the policy bundle byte for byte, every MCP session's token present on
// its server with the same identity, each component holding only its own sessions and keys, every
// pod hardened, and RBAC that writes only where the design says. Server-side validation and the
// permissions as the API server judges them: test/controlplane/helm-chart.cp.test.ts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePhaseFile } from '../../src/governance/phase-file.ts';
import { parseGovernanceConfig } from '../../src/governance/tenants.ts';
import { REPO } from './dockerfile.ts';
import { PHASES, byKind, lintChart, named, renderChart, secretData, type K8sObject, type Rendered } from './helm.ts';

const SEED = ['--set', 'mcp.tokenSeed=a-fixed-seed-for-the-test-0123456789'];
const AGENTS = ['watchtower', 'elastik', 'configurer', 'arbitrator', 'strategist'];
const MCP = ['kubernetes', 'configmap', 'feature-flags', 'billing', 'finops', 'prometheus', 'opa', 'cloud'];
const COMPONENTS = [...AGENTS, 'gateway', 'executor', ...MCP.map((s) => `mcp-${s}`)];
const GRANT_SERVERS = ['kubernetes', 'configmap', 'feature-flags', 'billing', 'cloud'];
const repoTenants = JSON.parse(readFileSync(join(REPO, 'config/tenants.json'), 'utf8')) as { tenants: Record<string, { namespaces: string[] }> };
const TENANT_NS = Object.values(repoTenants.tenants).flatMap((t) => t.namespaces).sort();

interface Session { server: string; agent: string; tenant?: string; token: string }
interface Endpoints { servers: Record<string, string>; sessions: Session[] }
type Tokens = Record<string, { agent: string; namespaces: string[] }>;

interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  securityContext: Record<string, unknown> & { seccompProfile?: { type: string } };
  containers: {
    name: string;
    args: string[];
    env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional: boolean } } }[];
    securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[]; add?: string[] }; privileged?: boolean };
    resources: { requests?: Record<string, string>; limits?: Record<string, string> };
    readinessProbe?: { httpGet?: { path: string }; tcpSocket?: unknown };
    livenessProbe?: unknown;
    volumeMounts: { name: string; mountPath: string; subPath?: string }[];
  }[];
  volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string; items?: { key: string }[] }; emptyDir?: unknown }[];
}

const pod = (d: K8sObject): PodSpec => (d['spec'] as { template: { spec: PodSpec } }).template.spec;
const deployment = (r: Rendered, component: string) => named(r, 'Deployment', `governor-${component}`);
const env = (p: PodSpec, name: string) => p.containers[0]!.env.find((e) => e.name === name);

describe('the Helm chart, rendered for each phase', () => {
  for (const phase of PHASES) {
    it(`lints and renders with values-${phase}.yaml; the phase file says '${phase}' and parses as the gateway parses it`, () => {
      const lint = lintChart(phase);
      expect(lint).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(lint).not.toMatch(/\[(ERROR|WARNING)\]/);
      const r = renderChart(phase);
      const file = named(r, 'ConfigMap', 'governor-phase');
      expect(parsePhaseFile((file['data'] as Record<string, string>)['governor.json']!, 'governor.json')).toBe(phase);
      expect(byKind(r, 'Deployment').map((d) => d.metadata.name).sort()).toEqual(COMPONENTS.map((c) => `governor-${c}`).sort());
    });
  }

  it('differs between phases only in the phase ConfigMap: a phase change restarts nothing', () => {
    const a = renderChart('observe', SEED).objects;
    const b = renderChart('govern', SEED).objects;
    expect(a.length).toBe(b.length);
    const differing = a.filter((o, i) => JSON.stringify(o) !== JSON.stringify(b[i])).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(differing).toEqual(['ConfigMap/governor-phase']);
  });

  it('refuses to render without a phase, or with one that is not a phase', () => {
    expect(() => renderChart(undefined)).toThrow(/phase must be observe, advise, assist or govern/);
    expect(() => renderChart(undefined, ['--set', 'phase=autopilot'])).toThrow(/got "autopilot"/);
  });

  it('ships the tenants file the processes accept (config/tenants.json by default) and the committed policy bundle byte for byte', () => {
    const r = renderChart('govern');
    const tenants = JSON.parse((named(r, 'ConfigMap', 'governor-tenants')['data'] as Record<string, string>)['tenants.json']!) as unknown;
    expect(tenants).toEqual(JSON.parse(readFileSync(join(REPO, 'config/tenants.json'), 'utf8')));
    expect(Object.keys(parseGovernanceConfig(tenants).tenants).sort()).toEqual(['acme', 'initech']);
    const bundle = Buffer.from((named(r, 'ConfigMap', 'governor-policy')['binaryData'] as Record<string, string>)['bundle.tar.gz']!, 'base64');
    expect(bundle.equals(readFileSync(join(REPO, 'policies/bundle.tar.gz')))).toBe(true);
    // Mounted as directories (never subPath), so kubelet's update reaches the watching processes.
    for (const d of byKind(r, 'Deployment')) {
      for (const m of pod(d).containers[0]!.volumeMounts) expect(m.subPath, `${d.metadata.name} ${m.name}`).toBeUndefined();
    }
  });

  describe('MCP sessions', () => {
    const r = renderChart('govern');
    const tokensOf = (server: string) => JSON.parse(secretData(named(r, 'Secret', `governor-mcp-tokens-${server}`), 'tokens.json')) as Tokens;
    const endpointsOf = (component: string) => JSON.parse(secretData(named(r, 'Secret', `governor-mcp-endpoints-${component}`), 'endpoints.json')) as Endpoints;
    const holders = [...AGENTS, 'executor'];

    it('every session a component holds is a token of that server for that agent and exactly the tenant’s namespaces', () => {
      for (const component of holders) {
        const e = endpointsOf(component);
        expect(e.sessions.length, component).toBeGreaterThan(0);
        for (const s of e.sessions) {
          expect(e.servers[s.server]).toBe(`http://governor-mcp-${s.server}.governor.svc:8080/mcp`);
          const identity = tokensOf(s.server)[s.token];
          expect(identity, `${component}: ${s.agent}@${s.server}/${s.tenant ?? '*'}`).toBeDefined();
          expect(identity!.agent).toBe(s.agent);
          expect(identity!.namespaces.sort()).toEqual(s.tenant ? repoTenants.tenants[s.tenant]!.namespaces : TENANT_NS);
          expect(s.token).toMatch(/^[0-9a-f]{64}$/);
        }
      }
    });

    it('each component holds only its own agents’ sessions; every server token is held by someone', () => {
      const all = new Set<string>();
      for (const component of holders) {
        const mine = component === 'executor' ? ['elastik', 'configurer', 'arbitrator', 'verifier'] : [component];
        for (const s of endpointsOf(component).sessions) {
          expect(mine, `${component} holds ${s.agent}'s session`).toContain(s.agent);
          all.add(s.token);
        }
      }
      for (const server of MCP) for (const token of Object.keys(tokensOf(server))) expect(all.has(token), `${server} token unheld`).toBe(true);
      // The table of the brief: who talks to which server.
      const pairs = (component: string) => [...new Set(endpointsOf(component).sessions.map((s) => `${s.server}:${s.tenant ? 'tenant' : 'all'}`))].sort();
      expect(pairs('watchtower')).toEqual(['kubernetes:tenant', 'prometheus:tenant']);
      expect(pairs('elastik')).toEqual(['cloud:all', 'kubernetes:tenant', 'prometheus:tenant']);
      expect(pairs('configurer')).toEqual(['configmap:tenant', 'feature-flags:tenant', 'kubernetes:tenant', 'prometheus:tenant']);
      expect(pairs('arbitrator')).toEqual(['billing:all', 'kubernetes:tenant', 'opa:all', 'prometheus:tenant']);
      expect(pairs('strategist')).toEqual(['finops:all']);
      expect(endpointsOf('executor').sessions.filter((s) => s.agent === 'verifier').map((s) => s.server).sort()).toEqual(['kubernetes', 'kubernetes', 'prometheus', 'prometheus']);
    });

    it('one seed per render, in the seed Secret and in every pod’s checksum; a fixed seed gives the same tokens every time', () => {
      const seed = secretData(named(r, 'Secret', 'governor-mcp-token-seed'), 'seed');
      const sum = createHash('sha256').update(seed).digest('hex');
      for (const c of [...holders, ...MCP.map((s) => `mcp-${s}`)]) {
        expect((deployment(r, c)['spec'] as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['checksum/mcp-tokens'], c).toBe(sum);
      }
      const once = renderChart('govern', SEED);
      const again = renderChart('assist', SEED);
      expect(secretData(named(once, 'Secret', 'governor-mcp-tokens-kubernetes'), 'tokens.json')).toBe(secretData(named(again, 'Secret', 'governor-mcp-tokens-kubernetes'), 'tokens.json'));
      expect(secretData(named(once, 'Secret', 'governor-mcp-tokens-kubernetes'), 'tokens.json')).not.toBe(secretData(named(r, 'Secret', 'governor-mcp-tokens-kubernetes'), 'tokens.json'));
    });
  });

  describe('pods', () => {
    const r = renderChart('govern');

    it('run as non-root with a read-only root, no capabilities, RuntimeDefault seccomp, resources set', () => {
      for (const d of byKind(r, 'Deployment')) {
        const p = pod(d);
        const name = d.metadata.name;
        expect(p.securityContext['runAsNonRoot'], name).toBe(true);
        expect(p.securityContext['runAsUser'] as number).toBeGreaterThan(0);
        expect(p.securityContext.seccompProfile?.type).toBe('RuntimeDefault');
        expect(p.serviceAccountName).toBe(name);
        for (const c of p.containers) {
          expect(c.securityContext.readOnlyRootFilesystem, name).toBe(true);
          expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
          expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
          expect(c.securityContext.capabilities.add).toBeUndefined();
          expect(c.resources.requests?.['cpu'] && c.resources.requests['memory'] && c.resources.limits?.['memory'], name).toBeTruthy();
          // The only writable places: the data directory and /tmp, both emptyDirs.
          const writable = c.volumeMounts.filter((m) => p.volumes.find((v) => v.name === m.name)?.emptyDir !== undefined).map((m) => m.mountPath).sort();
          expect(writable).toEqual(['/tmp', '/var/lib/governor']);
          expect(env(p, 'GOVERNOR_DATA_DIR')?.value).toBe('/var/lib/governor');
        }
      }
    });

    it('run the contracted command of each component; probes only where a process serves HTTP', () => {
      for (const a of AGENTS) expect(pod(deployment(r, a)).containers[0]!.args).toEqual(['agent', a]);
      expect(pod(deployment(r, 'gateway')).containers[0]!.args).toEqual(['gateway']);
      expect(pod(deployment(r, 'executor')).containers[0]!.args).toEqual(['executor']);
      for (const s of MCP) {
        const c = pod(deployment(r, `mcp-${s}`)).containers[0]!;
        expect(c.args).toEqual(['mcp', s, '--port', '8080', '--host', '0.0.0.0']);
        expect(c.readinessProbe?.httpGet?.path).toBe('/healthz');
        expect(c.livenessProbe).toBeDefined();
      }
      // Agents and the executor serve nothing; the gateway serves Slack's endpoint (HTTP mode).
      for (const c of [...AGENTS, 'executor']) expect(pod(deployment(r, c)).containers[0]!.readinessProbe, c).toBeUndefined();
      expect(pod(deployment(r, 'gateway')).containers[0]!.readinessProbe?.tcpSocket).toBeDefined();
      const slack = named(r, 'Service', 'governor-slack');
      expect((slack['spec'] as { ports: { port: number }[] }).ports[0]!.port).toBe(3100);
      expect(renderChart('govern', ['--set', 'slack.mode=socket']).objects.some((o) => o.kind === 'Service' && o.metadata.name === 'governor-slack')).toBe(false);
    });

    it('hold only the keys and credentials they need', () => {
      const secretKeys = (c: string) => pod(deployment(r, c)).containers[0]!.env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name).sort();
      const grantItems = (c: string) => pod(deployment(r, c)).volumes.find((v) => v.name === 'grant-key')?.secret?.items?.map((i) => i.key) ?? [];
      expect(grantItems('gateway')).toEqual(['private.pem']);
      for (const s of GRANT_SERVERS) expect(grantItems(`mcp-${s}`), s).toEqual(['public.pem']);
      for (const c of COMPONENTS.filter((c) => c !== 'gateway' && !GRANT_SERVERS.map((s) => `mcp-${s}`).includes(c))) expect(grantItems(c), c).toEqual([]);
      for (const c of [...AGENTS, 'gateway', 'executor']) expect(env(pod(deployment(r, c)), 'GOVERNOR_AUDIT_KEY_FILE')?.value, c).toBe('/etc/governor/audit-key/private.pem');
      for (const s of MCP) expect(env(pod(deployment(r, `mcp-${s}`)), 'GOVERNOR_AUDIT_KEY_FILE'), s).toBeUndefined();
      expect(secretKeys('gateway')).toEqual(['ANTHROPIC_API_KEY', 'DATABASE_URL', 'PAGERDUTY_ROUTING_KEY', 'REDIS_URL', 'SLACK_APP_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET']);
      expect(secretKeys('executor')).toEqual(['DATABASE_URL', 'REDIS_URL']);
      for (const a of AGENTS) expect(secretKeys(a)).toEqual(['ANTHROPIC_API_KEY', 'DATABASE_URL', 'REDIS_URL']);
      for (const s of GRANT_SERVERS) expect(secretKeys(`mcp-${s}`)).toEqual(['REDIS_URL']);
      for (const s of ['finops', 'prometheus', 'opa']) expect(secretKeys(`mcp-${s}`)).toEqual([]);
      // REDIS_URL and DATABASE_URL are required in the split deployment: a pod without them does not start.
      expect(env(pod(deployment(r, 'gateway')), 'DATABASE_URL')?.valueFrom?.secretKeyRef?.optional).toBe(false);
      expect(env(pod(deployment(r, 'gateway')), 'SLACK_BOT_TOKEN')?.valueFrom?.secretKeyRef?.optional).toBe(true);
      // Servers that never talk to the Kubernetes API get no token.
      for (const s of ['prometheus', 'opa', 'cloud']) expect(pod(deployment(r, `mcp-${s}`)).automountServiceAccountToken, s).toBe(false);
    });
  });

  describe('RBAC', () => {
    const r = renderChart('govern');
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
    const rules = (o: K8sObject) => o['rules'] as Rule[];
    const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection', '*'];
    const writes = (rs: Rule[]) => rs.filter((x) => x.verbs.some((v) => WRITE.includes(v))).flatMap((x) => x.resources.map((res) => `${res}:${x.verbs.filter((v) => WRITE.includes(v)).join('+')}`)).sort();
    const subjectOf = (b: K8sObject) => (b['subjects'] as { name: string }[]).map((s) => s.name);

    it('never touches Secrets, never grants a wildcard verb, writes cluster-wide only `patch nodes` for the Kubernetes MCP server', () => {
      for (const o of [...byKind(r, 'Role'), ...byKind(r, 'ClusterRole')]) {
        for (const x of rules(o)) {
          expect(x.resources, o.metadata.name).not.toContain('secrets');
          expect(x.verbs).not.toContain('*');
        }
      }
      const clusterWrites = byKind(r, 'ClusterRole').flatMap((o) => writes(rules(o)).map((w) => `${o.metadata.name} ${w}`));
      expect(clusterWrites).toEqual(['governor-governor-mcp-kubernetes-cordon nodes:patch']);
      const cordon = byKind(r, 'ClusterRoleBinding').filter((b) => (b['roleRef'] as { name: string }).name.endsWith('-cordon'));
      expect(cordon.flatMap(subjectOf)).toEqual(['governor-mcp-kubernetes']);
    });

    it('only the Kubernetes MCP server may scale, and only in the tenants’ namespaces; agents, gateway and executor write nothing', () => {
      const roles = byKind(r, 'Role');
      const scalers = roles.filter((o) => writes(rules(o)).some((w) => w.startsWith('deployments/scale:')));
      expect(scalers.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual(TENANT_NS.map((ns) => `${ns}/governor-mcp-kubernetes`));
      expect(new Set(roles.map((o) => o.metadata.namespace))).toEqual(new Set(TENANT_NS));
      const k = roles.find((o) => o.metadata.name === 'governor-mcp-kubernetes')!;
      expect(writes(rules(k))).toEqual(['deployments/scale:patch', 'deployments:patch', 'horizontalpodautoscalers:patch', 'pods/eviction:create']);
      const config = roles.find((o) => o.metadata.name === 'governor-mcp-configmap')!;
      expect(writes(rules(config))).toEqual(['configmaps:update', 'deployments:patch']);
      const billing = roles.find((o) => o.metadata.name === 'governor-mcp-billing')!;
      expect(writes(rules(billing))).toEqual(['deployments:patch']);
      expect(writes(rules(roles.find((o) => o.metadata.name === 'governor-mcp-finops')!))).toEqual([]);
      const bound = [...byKind(r, 'RoleBinding'), ...byKind(r, 'ClusterRoleBinding')].flatMap(subjectOf);
      for (const c of [...AGENTS, 'gateway', 'executor']) {
        const bindings = [...byKind(r, 'RoleBinding'), ...byKind(r, 'ClusterRoleBinding')].filter((b) => subjectOf(b).includes(`governor-${c}`));
        expect(bindings.map((b) => (b['roleRef'] as { name: string }).name).every((n) => n.endsWith('-cluster-read')), c).toBe(true);
      }
      expect(bound).toContain('governor-watchtower');
      expect(bound).not.toContain('governor-elastik');
    });
  });
});
