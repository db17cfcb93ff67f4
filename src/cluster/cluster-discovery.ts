// Discovery on a live cluster: two informers (list, then watch) from @kubernetes/client-node, one
// on namespaces and one on Deployments in every namespace, and the watch set recomputed from their
// caches (watch-targets.ts) on every change — so annotating a Deployment or labelling a namespace
// takes effect without a restart. A watch that fails is restarted after a pause; until then the
// last known set stays (the caches are the informers'). It reads; it never writes to the cluster.
import { AppsV1Api, CoreV1Api, makeInformer, type Informer, type KubeConfig, type ObjectCache, type V1Deployment, type V1Namespace } from '@kubernetes/client-node';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { discoverTargets, type DiscoveredTarget, type Discovery, type TenantNamespaces } from './watch-targets.ts';

export interface ClusterDiscoveryOptions {
  kube: KubeConfig;
  tenants: TenantNamespaces;
  logger: Logger;
  /** Told the new discovery whenever the watch set or its problems change. */
  onChange?: (d: Discovery, previous: Discovery) => void;
  /** Pause before restarting a failed watch. */
  restartMs?: number;
}

const key = (t: DiscoveredTarget) => JSON.stringify(t);

export class ClusterDiscovery {
  private readonly namespaces: Informer<V1Namespace> & ObjectCache<V1Namespace>;
  private readonly deployments: Informer<V1Deployment> & ObjectCache<V1Deployment>;
  private current: Discovery = { targets: [], unknownTenants: [], problems: [] };
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: ClusterDiscoveryOptions) {
    const core = opts.kube.makeApiClient(CoreV1Api);
    const apps = opts.kube.makeApiClient(AppsV1Api);
    this.namespaces = makeInformer(opts.kube, '/api/v1/namespaces', () => core.listNamespace());
    this.deployments = makeInformer(opts.kube, '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces());
    for (const [what, informer] of [['namespaces', this.namespaces], ['deployments', this.deployments]] as const) {
      const inf = informer as Informer<V1Namespace | V1Deployment>;
      for (const verb of ['add', 'update', 'delete'] as const) inf.on(verb, () => this.recompute());
      inf.on('error', (err: unknown) => {
        if (this.stopped) return;
        opts.logger.warn({ err: describeError(err), watch: what }, 'cluster watch failed; restarting it');
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!this.stopped) inf.start().catch((e: unknown) => opts.logger.warn({ err: describeError(e), watch: what }, 'cluster watch restart failed'));
        }, opts.restartMs ?? 5_000);
        this.timers.add(t);
      });
    }
  }

  /** Lists both kinds, starts the watches, and resolves with the first watch set. */
  async start(): Promise<Discovery> {
    this.stopped = false;
    await Promise.all([this.namespaces.start(), this.deployments.start()]);
    this.recompute();
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([this.namespaces.stop(), this.deployments.stop()]);
  }

  get discovery(): Discovery {
    return this.current;
  }

  /** The deployments watched now. */
  targets(): DiscoveredTarget[] {
    return this.current.targets;
  }

  private recompute(): void {
    const next = discoverTargets(this.namespaces.list(), this.deployments.list(), this.opts.tenants);
    const previous = this.current;
    const same =
      next.targets.map(key).join('\n') === previous.targets.map(key).join('\n') && next.problems.join('\n') === previous.problems.join('\n');
    this.current = next;
    if (!same) this.opts.onChange?.(next, previous);
  }
}
