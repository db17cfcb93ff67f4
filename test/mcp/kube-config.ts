// Test helper: a KubeConfig pointing client-node at a test API server (the twin or the fake).
import { KubeConfig } from '@kubernetes/client-node';

/** A KubeConfig for a test API server at `server` (token auth, as the composition root builds for the twin). */
export function kubeConfigFor(server: string): KubeConfig {
  const kube = new KubeConfig();
  kube.loadFromOptions({
    clusters: [{ name: 'test', server, skipTLSVerify: true }],
    users: [{ name: 'governor', token: 'cluster-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'governor' }],
    currentContext: 'test',
  });
  return kube;
}
