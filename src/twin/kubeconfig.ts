// The one way a kubeconfig for the twin's API server is made: the YAML kubectl, client-node and
// client-go read, with the server's address, the CA to verify it by (HTTPS) and a bearer token — and
// the client-node KubeConfig loaded from that same YAML, so that the composition root, `governor
// twin` and the tests all connect the way kubectl would. No file I/O: whoever writes the YAML to a
// file decides where (and should make it readable by its owner alone: it holds a token).
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeconfigOptions {
  server: string;
  /** PEM of the CA that signed the server's certificate; absent for plain HTTP. */
  caPem?: string;
  token: string;
  user?: string;
  cluster?: string;
  namespace?: string;
}

/** JSON strings are valid YAML scalars: every value is quoted that way, so no value can break the document. */
const q = (s: string) => JSON.stringify(s);

export function renderKubeconfig(o: KubeconfigOptions): string {
  const cluster = o.cluster ?? 'governor-twin';
  const user = o.user ?? 'governor';
  const context = `${user}@${cluster}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${q(cluster)}`,
    '  cluster:',
    `    server: ${q(o.server)}`,
    ...(o.caPem ? [`    certificate-authority-data: ${q(Buffer.from(o.caPem, 'utf8').toString('base64'))}`] : []),
    // Plain HTTP (the in-process test servers) has no certificate to verify, and client-node refuses
    // an http:// server unless told to skip verification.
    ...(o.server.startsWith('http://') ? ['    insecure-skip-tls-verify: true'] : []),
    'users:',
    `- name: ${q(user)}`,
    '  user:',
    `    token: ${q(o.token)}`,
    'contexts:',
    `- name: ${q(context)}`,
    '  context:',
    `    cluster: ${q(cluster)}`,
    `    user: ${q(user)}`,
    ...(o.namespace ? [`    namespace: ${q(o.namespace)}`] : []),
    `current-context: ${q(context)}`,
    'preferences: {}',
    '',
  ].join('\n');
}

/** client-node's view of a kubeconfig document (what renderKubeconfig writes, or a server's `kubeconfig()`). */
export function loadKubeconfig(yaml: string): KubeConfig {
  const kube = new KubeConfig();
  kube.loadFromString(yaml);
  return kube;
}
