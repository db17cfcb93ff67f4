// The OPA MCP server: Governor's policy engine (the committed OPA bundle compiled to Wasm, the same
// engine and bundle the gateway decides with) for the Arbitrator and for people — evaluate a policy
// input to the DESIGN §5 decision, explain a decision layer by layer in words, list the layers,
// files, rules and the bundle's identity. Read-only: it never records, grants or executes anything.
// A session is confined like every other server's: a policy input for a namespace or tenant outside
// the session's is refused (tenant_forbidden) before it is evaluated, and a malformed input is
// refused with every problem named (policy_invalid).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { PolicyInput, type PolicyEngine } from '../../src/policy/policy-engine.ts';
import type { BundleCatalog } from '../../src/policy/bundle-catalog.ts';
import { explainDecision } from '../../src/policy/explain-decision.ts';
import { sessionScope } from '../shared/session-scope.ts';

export const OPA_SERVER_NAME = 'opa';
/** The server's tools, for a client that routes an agent's tools over several sessions. */
export const OPA_TOOLS = ['evaluate', 'explain', 'list_policies'] as const;

export interface OpaSession {
  agent: string;
  namespaces: readonly string[];
  /** Tenants whose proposals this session may evaluate; absent: any tenant of its namespaces. */
  tenants?: readonly string[];
}

export interface OpaMcpDeps {
  policy: PolicyEngine;
  /** What the bundle in force holds; read again when the engine's version changes (a reload). */
  catalog: () => Promise<BundleCatalog>;
  session: OpaSession;
  logger?: Logger;
}

const inputArg = z
  .record(z.string(), z.unknown())
  .describe(
    'A policy input as DESIGN §5 defines it (what `governor policy eval --input FILE` reads and the gateway builds): ' +
      '{ proposal: { id, agent, tenant, namespace, action, target, params, blast_radius }, context: { now, agent_level, environment, change_freeze, in_flight_actions, tenant, estimated_monthly_cost_delta_usd, … } }. ' +
      "proposal.namespace must be one of this session's namespaces and proposal.tenant one of its tenants.",
  );

const violationOut = z.object({ layer: z.string(), rule: z.string(), message: z.string() });
const decisionOut = z.object({
  verdict: z.enum(['allow', 'require_approval', 'deny']).describe('allow: may run; require_approval: a human approves first; deny: never, whoever approves.'),
  violations: z.array(violationOut).describe('Every reason, most restrictive first.'),
  policy_version: z.string().describe('Hash of the compiled bundle that decided.'),
});
const explainOut = z.object({
  verdict: z.enum(['allow', 'require_approval', 'deny']),
  policy_version: z.string(),
  summary: z.string().describe('One sentence: what was decided for what, and which layers decided it.'),
  layers: z.array(
    z.object({
      layer: z.string(),
      title: z.string(),
      outcome: z.enum(['allowed', 'require_approval', 'deny']),
      reasons: z.array(z.object({ rule: z.string(), verdict: z.enum(['deny', 'require_approval', 'unknown']), message: z.string() })),
    }),
  ).describe('Safety, SLA, operational, cost, autonomy and blast radius, each with what it found.'),
  text: z.string().describe('The same as lines of text, for a person.'),
});
const listOut = z.object({
  policy_version: z.string().describe('The bundle in force (the hash every decision carries).'),
  bundle_file_version: z.string().describe('The hash of the bundle file on disk; differs from policy_version only while a changed file is being reloaded or was refused.'),
  bundle_sha256: z.string().describe('sha256 of the bundle file (bundle.tar.gz).'),
  revision: z.string().nullable().describe("The manifest's revision."),
  opa_version: z.string().nullable().describe('The opa release that compiled the bundle to Wasm, when its revision says it.'),
  rego_version: z.number().nullable(),
  entrypoints: z.array(z.string()),
  layers: z.array(
    z.object({
      layer: z.string(),
      package: z.string(),
      files: z.array(z.string()),
      rules: z.array(z.object({ rule: z.string(), verdicts: z.array(z.enum(['deny', 'require_approval'])) })),
    }),
  ),
  files: z.array(z.object({ path: z.string(), package: z.string(), role: z.string(), sha256: z.string() })),
  data_keys: z.array(z.string()).describe("Top-level keys of the bundle's data (limits and lists the rules read)."),
});

export function createOpaMcpServer(deps: OpaMcpDeps): McpServer {
  const { policy, session } = deps;
  const log = (deps.logger ?? silentLogger()).child({ agent: session.agent, server: OPA_SERVER_NAME });
  const { assertNamespace, respond } = sessionScope(session, log);
  const tenants = session.tenants ? new Set(session.tenants) : undefined;

  /** Validates the input, names every problem, and confines it to the session. */
  const admit = (raw: Record<string, unknown>): PolicyInput => {
    const parsed = PolicyInput.safeParse(raw);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
      throw new GovernorError('policy_invalid', `not a policy input (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`, { details: { problems } });
    }
    const p = parsed.data.proposal;
    assertNamespace(p.namespace);
    if (tenants && !tenants.has(p.tenant)) {
      throw new GovernorError('tenant_forbidden', `this session (agent '${session.agent}') is not bound to tenant '${p.tenant}'`);
    }
    // The input as given (fields may be added, DESIGN §5), as the engine and the audit see it.
    return raw as PolicyInput;
  };

  const server = new McpServer(
    { name: 'governor-opa', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        "Governor's policy engine (OPA, compiled to Wasm; the bundle the gateway decides with). evaluate turns a DESIGN §5 policy input into the decision " +
        '(allow | require_approval | deny, every violation, the policy version); explain says the same layer by layer in words; list_policies names the layers, ' +
        "files, rules and the bundle's revision, hash and opa version. Read-only. Inputs must be for the session's namespaces and tenants. Failures are isError " +
        'results whose text starts with a code (policy_invalid, tenant_forbidden, policy_unavailable).',
    },
  );

  server.registerTool(
    'evaluate',
    {
      title: 'Evaluate a policy input',
      description:
        'The decision of DESIGN §5 for one policy input, from the bundle in force: verdict, every violation (layer, rule, message) most restrictive first, and policy_version. ' +
        'A malformed input is refused (policy_invalid) with every problem named by field. Nothing is recorded or granted. Read-only.',
      inputSchema: { input: inputArg },
      outputSchema: decisionOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ input }) => respond('evaluate', { proposal_id: (input['proposal'] as { id?: unknown } | undefined)?.id }, async () => policy.evaluate(admit(input))),
  );

  server.registerTool(
    'explain',
    {
      title: 'Explain a policy decision',
      description:
        'Evaluates the input as `evaluate` does and says, for each layer (safety, SLA, operational, cost, autonomy, blast radius), whether it allowed the proposal, ' +
        'asks for a human approval or denies it, and why, in the policy\'s own words; with a one-sentence summary and the whole as text. Read-only.',
      inputSchema: { input: inputArg },
      outputSchema: explainOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ input }) =>
      respond('explain', { proposal_id: (input['proposal'] as { id?: unknown } | undefined)?.id }, async () => {
        const admitted = admit(input);
        const decision = await policy.evaluate(admitted);
        const catalog = await deps.catalog().catch((err: unknown) => {
          // The words lose the rule verdicts, never the decision.
          log.warn({ err }, 'policy catalog unreadable; explaining without rule verdicts');
          return undefined;
        });
        return explainDecision(admitted, decision, catalog);
      }),
  );

  server.registerTool(
    'list_policies',
    {
      title: 'Policy layers, files and version',
      description:
        "The policy bundle in force: its layers with their Rego files and every rule each can fire (with the verdict the rule imposes), the bundle's policy_version " +
        '(the hash decisions carry), sha256, manifest revision, the opa version it was compiled with, and the keys of its data. Read-only.',
      inputSchema: {},
      outputSchema: listOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async () =>
      respond('list_policies', {}, async () => {
        const c = await deps.catalog();
        return {
          policy_version: policy.version,
          bundle_file_version: c.policy_version,
          bundle_sha256: c.bundle_sha256,
          revision: c.revision,
          opa_version: c.opa_version,
          rego_version: c.rego_version,
          entrypoints: c.entrypoints,
          layers: c.layers.map((l) => ({ layer: l.layer, package: l.package, files: l.files, rules: l.rules.map((r) => ({ rule: r.rule, verdicts: r.verdicts })) })),
          files: c.files,
          data_keys: c.data_keys,
        };
      }),
  );

  return server;
}

/** The catalog of a bundle file, read once per policy version (a reload reads it again). */
export function cachedCatalog(policy: PolicyEngine, read: () => Promise<BundleCatalog>): () => Promise<BundleCatalog> {
  let cached: { version: string; catalog: Promise<BundleCatalog> } | undefined;
  return () => {
    if (!cached || cached.version !== policy.version) {
      const catalog = read();
      cached = { version: policy.version, catalog };
      catalog.catch(() => {
        if (cached?.catalog === catalog) cached = undefined;
      });
    }
    return cached.catalog;
  };
}
