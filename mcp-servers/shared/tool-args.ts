// Tool argument schemas every Governor MCP server shares, with descriptions written for the agents
// (and people) reading the tool list. Names follow Kubernetes' own rules, so a malformed name is
// refused by the schema before it reaches any cluster call.
import { z } from 'zod';

/** A namespace of this session (RFC 1123 label). `of` names what lives in it, for the description. */
export const namespaceArg = (of = 'deployment') =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes namespace name (RFC 1123 label)')
    .describe(`Namespace of the ${of}. Must be one of the namespaces this session's bearer token is bound to.`);

/** An object name (RFC 1123 subdomain). */
export const objectNameArg = (description: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes object name (RFC 1123 subdomain)')
    .describe(description);

export const deploymentArg = objectNameArg('Name of the apps/v1 Deployment.');

/** The execution grant a mutating tool needs (checked by shared/grant-gate.ts). */
export const grantArg = (server: string) =>
  z
    .record(z.string(), z.unknown())
    .describe(
      `Execution grant issued by Governor's gateway for exactly this call: server \`${server}\`, same tool, and arguments equal to this call's arguments without \`grant\`. ` +
        "It must be signed by a trusted key, unexpired, issued to this session's agent for this namespace and the tenant that owns it, issued after the latest /agents-pause, and not used before (grants are single-use).",
    );
