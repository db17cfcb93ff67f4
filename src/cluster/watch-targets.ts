// What Governor watches on a cluster (DESIGN §8), from the cluster's own objects: a Deployment is
// watched when it carries `governor.io/slo-p99-ms`; its namespace's tenant is the label
// `governor.io/tenant` (else the namespace's name), its environment `governor.io/environment`
// (`production` when absent: the safe default). Pure: objects and the tenants file in, the watch set
// and every problem with it out. A bad annotation is reported, never guessed at; a deployment
// outside the namespaces the tenants file gives its tenant is reported and left unwatched, since
// every agent session is bound to those namespaces (fail closed). A deployment of a tenant the file
// does not name (or of an unlabelled namespace no tenant owns) is watched under the most restrictive
// tier (src/governance/assumed-tenant.ts), and that is reported too; never in a namespace the file
// gives to another tenant.
import { RESTRICTED_TIER } from '../governance/assumed-tenant.ts';

export const SLO_P99_ANNOTATION = 'governor.io/slo-p99-ms';
export const SLO_ERROR_RATIO_ANNOTATION = 'governor.io/slo-error-ratio';
export const TENANT_LABEL = 'governor.io/tenant';
export const ENVIRONMENT_LABEL = 'governor.io/environment';
const ENVIRONMENTS = ['production', 'staging', 'development'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export interface DiscoveredTarget {
  tenant: string;
  namespace: string;
  deployment: string;
  environment: Environment;
  sloP99Ms: number;
  sloErrorRatio?: number;
  /** Set when the tenants file does not name the tenant: the tier its terms were assumed from. */
  assumedTier?: string;
}

export interface Discovery {
  targets: DiscoveredTarget[];
  /** Tenants found on watched deployments' namespaces that the tenants file does not know: reported, their deployments watched under the most restrictive tier. */
  unknownTenants: string[];
  /** Annotations and labels that could not be read, and deployments left unwatched, each in words. */
  problems: string[];
}

/** What the tenants file says about tenants: which namespaces each one's sessions may reach. */
export type TenantNamespaces = Readonly<Record<string, { namespaces: readonly string[]; /** An entry Governor assumed, not the file's. */ assumed?: unknown }>>;

/** The part of a Kubernetes object discovery reads: a V1Namespace or V1Deployment, or the twin's own. */
export interface ObjectMetaOnly {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export function discoverTargets(namespaces: readonly ObjectMetaOnly[], deployments: readonly ObjectMetaOnly[], tenants: TenantNamespaces): Discovery {
  const problems: string[] = [];
  const unknown = new Set<string>();
  // Entries Governor assumed for unknown tenants (assumed-tenant.ts) are not the file's: they stay unknown.
  const fileTenants = Object.fromEntries(Object.entries(tenants).filter(([, t]) => !t.assumed));
  const owner = new Map<string, string>();
  for (const [name, t] of Object.entries(fileTenants)) for (const n of t.namespaces) owner.set(n, name);
  const nsInfo = new Map<string, { tenant: string; labelled: boolean; environment: Environment }>();
  for (const ns of namespaces) {
    const name = ns.metadata?.name;
    if (!name) continue;
    const labels = ns.metadata?.labels ?? {};
    const tenant = labels[TENANT_LABEL] || name;
    const envLabel = labels[ENVIRONMENT_LABEL];
    let environment: Environment = 'production';
    if (envLabel !== undefined) {
      if ((ENVIRONMENTS as readonly string[]).includes(envLabel)) environment = envLabel as Environment;
      else problems.push(`namespace ${name}: ${ENVIRONMENT_LABEL}=${envLabel} is not one of ${ENVIRONMENTS.join(', ')}; treated as production`);
    }
    nsInfo.set(name, { tenant, labelled: Boolean(labels[TENANT_LABEL]), environment });
  }
  const targets: DiscoveredTarget[] = [];
  for (const d of deployments) {
    const namespace = d.metadata?.namespace;
    const deployment = d.metadata?.name;
    const raw = d.metadata?.annotations?.[SLO_P99_ANNOTATION];
    if (!namespace || !deployment || raw === undefined) continue;
    const ref = `${namespace}/${deployment}`;
    const slo = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(slo) || slo <= 0) {
      problems.push(`${ref}: ${SLO_P99_ANNOTATION}="${raw}" is not a positive number of milliseconds; not watched`);
      continue;
    }
    const info = nsInfo.get(namespace);
    if (!info) {
      problems.push(`${ref}: its namespace is not visible; not watched`);
      continue;
    }
    const rawRatio = d.metadata?.annotations?.[SLO_ERROR_RATIO_ANNOTATION];
    let sloErrorRatio: number | undefined;
    if (rawRatio !== undefined) {
      const r = Number(rawRatio);
      if (rawRatio.trim() === '' || !(r > 0 && r < 1)) problems.push(`${ref}: ${SLO_ERROR_RATIO_ANNOTATION}="${rawRatio}" is not a ratio between 0 and 1; ignored`);
      else sloErrorRatio = r;
    }
    const known = Object.hasOwn(fileTenants, info.tenant) ? fileTenants[info.tenant] : undefined;
    let assumedTier: string | undefined;
    if (!known) {
      const taken = owner.get(namespace);
      if (taken !== undefined) {
        // Isolation hangs on a namespace having one tenant: a label never takes one from the file's owner.
        problems.push(
          info.labelled
            ? `${ref}: its namespace belongs to tenant ${taken} in the tenants file, but is labelled for ${info.tenant}; not watched`
            : `${ref}: its namespace has no ${TENANT_LABEL} label, so its tenant would be ${info.tenant}, but the tenants file gives it to ${taken} (label it ${TENANT_LABEL}=${taken}); not watched`,
        );
        continue;
      }
      unknown.add(info.tenant);
      assumedTier = RESTRICTED_TIER;
      problems.push(`${ref}: tenant ${info.tenant} is not in the tenants file; watched under the most restrictive tier '${RESTRICTED_TIER}' (every action needs a human approval)`);
    } else if (!known.namespaces.includes(namespace)) {
      problems.push(`${ref}: tenant ${info.tenant}'s namespaces in the tenants file (${known.namespaces.join(', ')}) do not include ${namespace}; not watched`);
      continue;
    }
    targets.push({ tenant: info.tenant, namespace, deployment, environment: info.environment, sloP99Ms: slo, ...(sloErrorRatio !== undefined ? { sloErrorRatio } : {}), ...(assumedTier ? { assumedTier } : {}) });
  }
  targets.sort((a, b) => `${a.namespace}/${a.deployment}`.localeCompare(`${b.namespace}/${b.deployment}`));
  return { targets, unknownTenants: [...unknown].sort(), problems };
}
