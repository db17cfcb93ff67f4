// What became of each grant, kept where every replica of the server sees it (the shared state:
// Redis with REDIS_URL). A call that presents a grant already carried out — the same grant, its
// signature and all — is answered with the outcome kept, and nothing is done again. That is how an
// executor that died in the middle of a call (its claim taken, its result never recorded) learns,
// once restarted, what its call did: it asks again with the same grant, and the server, which went
// on with the call after the client was gone, answers from this ledger. Without it the grant would
// only be `grant_used`, and the action executed but never audited.
// Kept: the answer of every call that spent the grant and kept it spent (GrantGate: the change may
// be in the cluster) — a success, or an error after the write went out. Not kept: answers given
// before the grant was spent, or after the cluster refused the write and the grant was given back
// (a retry with it may still act), and anything a forged grant could produce: whoever presents one
// must not choose what the real grant will be answered.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { GrantGate } from './grant-gate.ts';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { describeError } from '../../src/core/errors.ts';
import type { Logger } from '../../src/core/logger.ts';

/** Marks a result given from the ledger rather than by carrying the call out. */
export const REPLAYED_META_KEY = 'governor.io/replayed';
/** Far beyond any grant's life: a retry after a crash comes within the grant's two minutes. */
const OUTCOME_TTL_MS = 24 * 3600_000;

type Handler = (args: Record<string, unknown>, extra: unknown) => Promise<CallToolResult>;

/** Every tool registered on `server` from now on answers a grant it already carried out from the ledger. */
export function keepGrantOutcomes(server: McpServer, gate: GrantGate, logger: Logger): void {
  const deps = { sharedState: gate.sharedState, clock: gate.clock, logger };
  const register = server.registerTool.bind(server) as unknown as (name: string, config: unknown, handler: Handler) => unknown;
  const wrapped = (name: string, config: unknown, handler: Handler) =>
    register(name, config, async (args, extra) => {
      const grant = args?.['grant'] as { id?: unknown; signature?: unknown } | undefined;
      if (!grant || typeof grant.id !== 'string' || typeof grant.signature !== 'string') return handler(args, extra);
      const key = `grant-outcome:${grant.id}`;
      // The very same call: the same grant (its signature), tool and arguments. Anything else goes to
      // the tool, which refuses a grant presented for another call (grant_mismatch).
      const { grant: _presented, ...rest } = args;
      const call = canonicalJson(rest);
      const kept = await deps.sharedState.recall(key, deps.clock.now()).catch(() => undefined);
      if (kept) {
        const entry = JSON.parse(kept) as { signature: string; tool: string; call: string; result: CallToolResult };
        if (entry.signature === grant.signature && entry.tool === name && entry.call === call) {
          deps.logger.warn({ tool: name, grant_id: grant.id }, `${name}: grant ${grant.id} was carried out already; answering with its outcome, doing nothing again`);
          return { ...entry.result, _meta: { ...entry.result._meta, [REPLAYED_META_KEY]: true } };
        }
      }
      const result = await handler(args, extra);
      if (gate.spentHere(grant.id)) {
        gate.settled(grant.id);
        await deps.sharedState
          .keepFirst(key, JSON.stringify({ signature: grant.signature, tool: name, call, result }), deps.clock.now(), OUTCOME_TTL_MS)
          .catch((err: unknown) => deps.logger.warn({ tool: name, grant_id: grant.id, err: describeError(err) }, 'the outcome of a grant was not kept: a retry after a crash will find the grant used'));
      }
      return result;
    });
  (server as unknown as { registerTool: typeof wrapped }).registerTool = wrapped;
}
