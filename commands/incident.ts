// `governor incident list | show ID|latest | explain ID|latest [QUESTION…]` (DESIGN §8): the same
// answers as Slack's `/incident`, from the audit log DATABASE_URL names (`--schema`, as for
// `governor audit verify`; a demo's records are in `governor_demo`) or the sandbox's embedded one.
// Without `--schema`, `governor` is read, and when nothing was ever recorded there but a demo's
// records exist, those are read instead (said on stderr): after `governor demo`, `governor incident
// explain latest` answers about the demo. `--json` prints one object; otherwise a short report for
// people. With ANTHROPIC_API_KEY, `explain` asks the model over the incident's records
// (src/llm/llm-incident-queries.ts) and records the exchange in the same log, sealed with the audit
// key `governor start` uses; the rules answer when it cannot.
import { loadConfig } from '../src/config.ts';
import { GovernorError } from '../src/core/errors.ts';
import { RecordsIncidentQueries } from '../src/governance/incident-answers.ts';
import { openAuditForReading } from './open-audit.ts';
import { openAuditKey } from '../src/audit/audit-key.ts';
import { RealClock } from '../src/core/clock.ts';
import { AuditRecorder } from '../src/audit/recorder.ts';
import { LlmIncidentQueries } from '../src/llm/llm-incident-queries.ts';
import { reasonerOf } from '../src/llm/from-config.ts';

type Out = (line: string) => void;

export async function incidentCommand(
  verb: 'list' | 'show' | 'explain',
  args: { id?: string; question?: string[]; schema?: string; json: boolean; limit?: number },
  out: Out = (l) => process.stdout.write(`${l}\n`),
  note: Out = (l) => process.stderr.write(`${l}\n`),
  schemas: { main: string; demo: string } = { main: 'governor', demo: 'governor_demo' },
): Promise<number> {
  if (args.schema !== undefined) return answer(verb, { ...args, schema: args.schema }, out);
  try {
    return await answer(verb, { ...args, schema: schemas.main }, out);
  } catch (err) {
    if (!isMissingLog(err)) throw err;
    let code: number;
    try {
      code = await answer(verb, { ...args, schema: schemas.demo }, out);
    } catch (demoErr) {
      // Neither schema holds a log: the first error says where to look.
      if (isMissingLog(demoErr)) throw err;
      throw demoErr;
    }
    note(`(schema '${schemas.main}' holds no audit log: these are the demo's records in '${schemas.demo}')`);
    return code;
  }
}

function isMissingLog(err: unknown): boolean {
  return err instanceof GovernorError && err.code === 'audit_unavailable' && (err.details as { sqlstate?: string } | undefined)?.sqlstate === '42P01';
}

async function answer(
  verb: 'list' | 'show' | 'explain',
  args: { id?: string; question?: string[]; schema: string; json: boolean; limit?: number },
  out: Out,
): Promise<number> {
  const config = loadConfig();
  // Only an explain with a model writes (its exchange); everything else reads.
  const writes = verb === 'explain' && config.llm !== undefined;
  const { store, close } = await openAuditForReading(config, args.schema, 'read', writes ? openAuditKey(config, true).key : undefined);
  try {
    const rules = new RecordsIncidentQueries(store);
    const q = writes
      ? new LlmIncidentQueries({ rules, audit: store, reasoner: reasonerOf(config.llm), recorder: new AuditRecorder(store, () => undefined), clock: new RealClock() })
      : rules;
    if (verb === 'list') {
      const list = await q.list({ limit: args.limit ?? 20 });
      if (args.json) out(JSON.stringify(list, null, 2));
      else if (list.length === 0) out('no incidents');
      else for (const i of list) out(`${i.incident_id}  ${i.opened_at}  ${i.resolved_at ? `resolved ${i.resolved_at}` : 'OPEN'}  ${i.severity}  ${i.tenant}  ${i.service}  ${i.summary}`);
      return 0;
    }
    const id = args.id ?? 'latest';
    if (verb === 'show') {
      const t = await q.timeline(id);
      if (!t) throw new GovernorError('not_found', `no incident '${id}' in schema ${args.schema} (see 'governor incident list')`);
      if (args.json) out(JSON.stringify(t, null, 2));
      else {
        out(`${t.summary.incident_id}  ${t.summary.tenant}  ${t.summary.service}  ${t.summary.resolved_at ? 'resolved' : 'OPEN'}`);
        for (const e of t.entries) out(`  +${String(e.t_s).padStart(5)} s  ${e.text}  [#${e.cites.seq}]`);
      }
      return 0;
    }
    const question = (args.question ?? []).join(' ').trim();
    const a = await q.explain(id, question);
    if (!a) throw new GovernorError('not_found', `no incident '${id}' in schema ${args.schema} (see 'governor incident list')`);
    if (args.json) out(JSON.stringify({ incident_id: a.incident_id, answer: a.answer, source: a.source, llm: a.llm, cites: a.cites }, null, 2));
    else {
      out(a.answer);
      out(`(${a.source === 'rules' ? 'answered by rules' : 'answered by the model'}; records ${a.cites.map((c) => `#${c.seq}`).join(', ')})`);
    }
    return 0;
  } finally {
    await close();
  }
}
