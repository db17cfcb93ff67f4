// The versions of each config map this server has seen. Kubernetes keeps no history of a
// ConfigMap (unlike a Deployment's ReplicaSets), so the server keeps one itself, from what its
// watch reports (config-watch.ts), timestamped on the injected Clock. The limitation is part of
// the contract and is reported with every answer: nothing before `tracking_since` is known, a change
// made while the server was down is seen as one change at the moment it is noticed, and two writes
// between two watch events (a lost watch) look like one. Pure state, no I/O; it must never invent a
// version it was not shown, and it keeps data only for config maps in the namespaces it watches.

export interface KeyChange {
  key: string;
  /** null: the key did not exist before. */
  before: string | null;
  /** null: the key was removed. */
  after: string | null;
}

export interface ConfigVersion {
  resource_version: string;
  /** When this server saw the version (the Clock's time, ISO 8601); for `initial`, when tracking began. */
  observed_at: string;
  /**
   * initial: the data when tracking began (its own history is unknown); created: the map appeared
   * while tracked; changed: its data changed; deleted: the map was deleted.
   */
  kind: 'initial' | 'created' | 'changed' | 'deleted';
  /** Keys that differ from the previous version, sorted; every key for `initial` and `created`. */
  changes: KeyChange[];
  /** The whole data of this version ({} once deleted). */
  data: Record<string, string>;
}

/** Keys whose value differs between two versions of a map's data, sorted by key. */
export function diffData(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): KeyChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: KeyChange[] = [];
  for (const key of keys) {
    const b = Object.hasOwn(before, key) ? before[key]! : null;
    const a = Object.hasOwn(after, key) ? after[key]! : null;
    if (b !== a) out.push({ key, before: b, after: a });
  }
  return out;
}

/** Versions kept per config map: enough to look back over an incident, bounded against a write storm. */
export const MAX_VERSIONS_PER_CONFIG = 50;

export class ConfigHistory {
  private readonly byKey = new Map<string, ConfigVersion[]>();
  private sinceMs: number | null = null;

  constructor(private readonly maxVersions = MAX_VERSIONS_PER_CONFIG) {}

  /** Marks the start of tracking (the first complete listing). Later calls keep the first time. */
  markTracking(atMs: number): void {
    if (this.sinceMs === null) this.sinceMs = atMs;
  }

  /** When tracking began, or null before the first complete listing. */
  trackingSinceMs(): number | null {
    return this.sinceMs;
  }

  /**
   * Records what the cluster says a config map holds now. `listing` marks a snapshot taken by a
   * (re)list rather than a watch event: the first one of a map is its `initial` version. Same data
   * as the newest version records nothing (a label or annotation change is not a config change).
   * Returns the version recorded, if any.
   */
  observe(namespace: string, name: string, resourceVersion: string, data: Readonly<Record<string, string>>, atMs: number, listing: boolean): ConfigVersion | undefined {
    const versions = this.versionsOf(namespace, name);
    const last = versions[0];
    const observed_at = new Date(atMs).toISOString();
    if (!last || last.kind === 'deleted') {
      const kind = !last && listing && this.sinceMs === null ? 'initial' : 'created';
      return this.push(versions, { resource_version: resourceVersion, observed_at, kind, changes: diffData({}, data), data: { ...data } });
    }
    if (last.resource_version === resourceVersion) return undefined;
    const changes = diffData(last.data, data);
    if (changes.length === 0) return undefined;
    return this.push(versions, { resource_version: resourceVersion, observed_at, kind: 'changed', changes, data: { ...data } });
  }

  observeDeleted(namespace: string, name: string, resourceVersion: string, atMs: number): ConfigVersion | undefined {
    const versions = this.versionsOf(namespace, name);
    const last = versions[0];
    if (!last || last.kind === 'deleted') return undefined;
    return this.push(versions, {
      resource_version: resourceVersion,
      observed_at: new Date(atMs).toISOString(),
      kind: 'deleted',
      changes: diffData(last.data, {}),
      data: {},
    });
  }

  /** Config maps of `namespace` this history holds a live (not deleted) version of. */
  liveNames(namespace: string): string[] {
    const prefix = `${namespace}/`;
    return [...this.byKey.entries()]
      .filter(([k, v]) => k.startsWith(prefix) && v[0] !== undefined && v[0].kind !== 'deleted')
      .map(([k]) => k.slice(prefix.length));
  }

  /** Newest first; a copy. */
  history(namespace: string, name: string): ConfigVersion[] {
    return (this.byKey.get(`${namespace}/${name}`) ?? []).map((v) => ({ ...v, changes: v.changes.map((c) => ({ ...c })), data: { ...v.data } }));
  }

  private versionsOf(namespace: string, name: string): ConfigVersion[] {
    const k = `${namespace}/${name}`;
    let v = this.byKey.get(k);
    if (!v) this.byKey.set(k, (v = []));
    return v;
  }

  private push(versions: ConfigVersion[], v: ConfigVersion): ConfigVersion {
    versions.unshift(v);
    if (versions.length > this.maxVersions) versions.length = this.maxVersions;
    return v;
  }
}
