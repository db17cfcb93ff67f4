// Refusals in Kubernetes' own terms — NotFound, AlreadyExists, Conflict (a stale resourceVersion),
// Invalid with a cause per field — raised by the twin's writes and validation, so that the API server
// (kube-api-server.ts) can answer with the Status a real one would send. Plain error values and the
// precondition check every write shares; nothing here reads or changes twin state.

export type TwinErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid';

export interface FieldCause {
  field: string;
  message: string;
  reason: string;
}

/** A refusal in Kubernetes' own terms, so the API server can answer with the matching Status. */
export class TwinError extends Error {
  constructor(
    readonly reason: TwinErrorReason,
    message: string,
    readonly details: { kind: string; group?: string; name: string; causes?: FieldCause[] },
  ) {
    super(message);
    this.name = 'TwinError';
  }
}

export interface MutationOptions {
  /** Precondition: refuse with Conflict unless the object is at this resourceVersion. */
  resourceVersion?: string;
}

/** `resource` is the API plural ("deployments"), `group` its API group when it has one. */
const qualified = (resource: string, group: string | undefined) => `${resource}${group ? `.${group}` : ''}`;
const detailsOf = (resource: string, name: string, group: string | undefined) => ({ kind: resource, ...(group ? { group } : {}), name });

export const invalid = (kind: string, group: string | undefined, name: string, causes: FieldCause[]) =>
  new TwinError('Invalid', `${qualified(kind, group)} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
    kind,
    ...(group ? { group } : {}),
    name,
    causes,
  });

export const conflict = (resource: string, name: string, group?: string) =>
  new TwinError(
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsOf(resource, name, group),
  );

export const notFound = (resource: string, name: string, group?: string) =>
  new TwinError('NotFound', `${qualified(resource, group)} "${name}" not found`, detailsOf(resource, name, group));

export const alreadyExists = (resource: string, name: string, group?: string) =>
  new TwinError('AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, detailsOf(resource, name, group));

/** The optimistic-concurrency precondition: a write that names a version refuses any other. */
export function checkVersion(wanted: string | undefined, current: string | number, resource: string, name: string, group?: string): void {
  if (wanted !== undefined && wanted !== String(current)) throw conflict(resource, name, group);
}
