// What a person runs to carry out advice themselves (phase Advise, or any agent at level 1: agents
// recommend, humans execute). Built only from the proposal's exact tool call, so the advice and the
// action the gateway judged are the same change; an action with no faithful one-line equivalent gets
// none, and the advice says what to change in words instead.
import type { Proposal } from '../contracts/events.ts';

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** A shell command for the proposal's tool call, or undefined when none is faithful. */
export function humanCommand(p: Pick<Proposal, 'tool_call'>): string | undefined {
  const { tool, args } = p.tool_call;
  const str = (k: string): string | undefined => {
    const v = args[k];
    // Names come from the cluster; anything that is not a plain Kubernetes name is never pasted into a command.
    return typeof v === 'string' && NAME.test(v) ? v : undefined;
  };
  const int = (k: string): number | undefined => {
    const v = args[k];
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
  };
  const ns = str('namespace');
  const deployment = str('deployment');
  switch (tool) {
    case 'scale_deployment': {
      const replicas = int('replicas');
      return ns && deployment && replicas !== undefined ? `kubectl -n ${ns} scale deployment/${deployment} --replicas=${replicas}` : undefined;
    }
    case 'rollback_deployment': {
      const revision = int('to_revision');
      return ns && deployment && revision !== undefined ? `kubectl -n ${ns} rollout undo deployment/${deployment} --to-revision=${revision}` : undefined;
    }
    case 'cordon_node': {
      const node = str('node');
      if (!node) return undefined;
      return args['drain'] === true ? `kubectl drain ${node} --ignore-daemonsets --delete-emptydir-data` : `kubectl cordon ${node}`;
    }
    case 'set_hpa_bounds': {
      const hpa = str('hpa');
      const min = int('min_replicas');
      const max = int('max_replicas');
      return ns && hpa && min !== undefined && max !== undefined ? `kubectl -n ${ns} patch hpa/${hpa} --type=merge -p '{"spec":{"minReplicas":${min},"maxReplicas":${max}}}'` : undefined;
    }
    case 'patch_resource_limits': {
      const container = str('container');
      const pairs = (k: 'requests' | 'limits'): string | null | undefined => {
        const r = args[k] as Record<string, unknown> | undefined;
        if (r === undefined) return undefined;
        const parts = (['cpu', 'memory'] as const).filter((x) => r[x] !== undefined).map((x) => (typeof r[x] === 'string' && QUANTITY.test(r[x]) ? `${x}=${r[x]}` : null));
        return parts.includes(null) ? null : parts.join(',') || undefined;
      };
      const requests = pairs('requests');
      const limits = pairs('limits');
      if (!ns || !deployment || !container || requests === null || limits === null || (!requests && !limits)) return undefined;
      return `kubectl -n ${ns} set resources deployment/${deployment} -c ${container}${requests ? ` --requests=${requests}` : ''}${limits ? ` --limits=${limits}` : ''}`;
    }
    default:
      return undefined;
  }
}
