// The App Home tab: what an operator needs before pulling a lever — every agent with its current and
// maximum level and why, the proposals waiting for a human, each tenant's burn rate and budget, and
// the current phase with its exit checks computed from the records (src/governance/phase-evidence.ts),
// so that promoting a phase is a decision made on evidence. Published with `views.publish` when a
// person opens the tab (`app_home_opened`). `homeView` is pure; `AuditHome` gathers its facts.
// It must never show a check as met on too little evidence, never change anything (it is a view),
// and never put names from the cluster or the tenants file into mrkdwn unescaped.
import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { AuditStore } from '../audit/audit-store.ts';
import type { Phase } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { AgentAutonomy } from '../governance/autonomy.ts';
import { exitChecksOf, phaseEvidence, type Coverage, type ExitCheck, type PhaseEvidence } from '../governance/phase-evidence.ts';
import { approvalsSoFar, lifeOf, stageOf, type ProposalLife } from '../governance/proposal-life.ts';
import type { Tenants } from '../governance/tenants.ts';
import { activePriorities, beneficiary, type ActivePriority } from '../governance/arbitration.ts';
import { agentName, code, context, escapeMrkdwn, header, section, slackDate, type KnownBlock } from './mrkdwn.ts';

export interface HomeView {
  type: 'home';
  blocks: KnownBlock[];
}

/** What the App Home shows to one person. */
export interface HomeSource {
  view(userId: string): Promise<HomeView>;
}

export interface TenantBudget {
  name: string;
  tier: string;
  burn_rate: number;
  /** Where the burn rate comes from: the tenant's SLIs now, or the tenants file. */
  burn_source?: 'live' | 'configured';
  monthly_budget_usd: number;
  month_to_date_usd: number;
  /** Where the month-to-date figure comes from (metered from Prometheus, or billed). */
  spend_basis?: string;
}

export interface HomeFacts {
  phase: Phase;
  agents: readonly AgentAutonomy[];
  /** Proposals waiting for a human: those for a tenant with raised priority first (highest burn first), then oldest first. */
  pending: readonly ProposalLife[];
  /** Tenants whose priority the Arbitrator raised (burn above 1.5x), highest burn first. */
  priorities?: readonly ActivePriority[];
  tenants: readonly TenantBudget[];
  evidence: PhaseEvidence;
  /** Over how many days the evidence was gathered. */
  windowDays: number;
  atMs: number;
}

const LEVEL_NAMES = { 1: 'advisory', 2: 'supervised', 3: 'autonomous' } as const;
const NEXT_PHASE: Record<Phase, Phase | undefined> = { observe: 'advise', advise: 'assist', assist: 'govern', govern: undefined };
const MARK = (met: boolean | null): string => (met === null ? '➖' : met ? '✅' : '❌');
const usd = (n: number): string => `$${Math.round(n).toLocaleString('en-US')}`;

function checkLine(c: ExitCheck): string {
  return `${MARK(c.met)} *${escapeMrkdwn(c.name)}*\n      ${escapeMrkdwn(c.value)} — target ${escapeMrkdwn(c.target)}${c.met === null ? ' — _not enough evidence yet_' : ''}`;
}

export function homeView(f: HomeFacts): HomeView {
  const next = NEXT_PHASE[f.phase];
  const own = exitChecksOf(f.evidence, f.phase);
  const ready = own.length > 0 && own.every((c) => c.met !== false) && own.some((c) => c.met === true);
  const verdict = next === undefined
    ? 'Govern is the last phase: its checks watch that it keeps paying off.'
    : own.some((c) => c.met === false)
      ? `Not ready for *${next}*: a check below fails.`
      : ready
        ? `The evidence supports promoting to *${next}* (a decision for a human: the phase file).`
        : `Not enough evidence yet to promote to *${next}*.`;
  const agents = f.agents
    .map((a) => `• *${agentName(a.agent)}* — level ${a.level} ${LEVEL_NAMES[a.level]} (max ${a.max})${a.hold ? ` ⛔ ${a.hold.kind === 'pause' ? 'paused' : 'demoted'}` : ''}\n      ${escapeMrkdwn(a.why)}`)
    .join('\n');
  const pending = f.pending.length === 0
    ? '_Nothing is waiting for a human._'
    : f.pending
        .slice(0, 15)
        .map((l) => {
          const p = l.proposal;
          const req = l.request?.requirement;
          const votes = approvalsSoFar(l).length;
          const prio = f.priorities?.find((x) => x.tenant === beneficiary(p));
          return `• ${prio ? `⏫ *first: ${escapeMrkdwn(prio.tenant)} has priority (burn ${prio.burn_rate}x)* ` : ''}${code(`${p.action} ${p.target.name}`)} for ${escapeMrkdwn(p.tenant)} by ${agentName(p.agent)}${req ? ` — ${votes} of ${req.required} approvals, expires ${slackDate(Date.parse(req.expires_at))}` : ''}${p.incident_id ? ` — incident ${code(p.incident_id.slice(0, 8))}` : ''}`;
        })
        .join('\n');
  const tenants = f.tenants
    .map((t) => {
      const spent = t.monthly_budget_usd > 0 ? Math.round((t.month_to_date_usd / t.monthly_budget_usd) * 100) : 0;
      const burn = t.burn_rate >= 6 ? '🔥' : t.burn_rate >= 1 ? '⚠️' : '🟢';
      const prio = f.priorities?.some((x) => x.tenant === t.name) ? ' — ⏫ priority raised' : '';
      return `• *${escapeMrkdwn(t.name)}* (${escapeMrkdwn(t.tier)}) — burn rate ${burn} ${t.burn_rate.toFixed(1)}x${t.burn_source === 'configured' ? ' (configured)' : t.burn_source === 'live' ? ' (live)' : ''}${prio} — ${usd(t.month_to_date_usd)} of ${usd(t.monthly_budget_usd)} this month (${spent}%)${t.spend_basis ? ` — _${escapeMrkdwn(t.spend_basis)}_` : ''}`;
    })
    .join('\n');
  const others = f.evidence.checks.filter((c) => c.phase !== f.phase);
  const blocks: KnownBlock[] = [
    header('Governor'),
    context(`Updated ${slackDate(f.atMs)} · evidence from the audit log over the last ${f.windowDays} days`),
    section(`*Phase: ${f.phase}*${next ? ` → next: ${next}` : ''}\n${verdict}`),
    section(`*Exit checks of ${f.phase}*\n${own.map(checkLine).join('\n') || '_none_'}`),
    { type: 'divider' },
    section(`*Agents* (\`/agents-level\` to change, \`/agents-pause\` to stop them all)\n${agents}`),
    { type: 'divider' },
    section(`*Waiting for approval* (${f.pending.length})\n${pending}`),
    { type: 'divider' },
    section(`*Tenants: burn rate and budget*\n${tenants || '_no tenants configured_'}`),
    { type: 'divider' },
    section(`*Every phase's checks*\n${others.map((c) => `_${c.phase}_ ${checkLine(c)}`).join('\n')}`),
  ];
  return { type: 'home', blocks };
}

export interface AuditHomeDeps {
  audit: Pick<AuditStore, 'list'>;
  autonomy: { readonly phase: Phase; statuses(): AgentAutonomy[] };
  tenants: Tenants;
  /** Watched services and those reporting now (the metric source's word). */
  coverage: () => Promise<Coverage>;
  clock: Clock;
  /** Days of records the evidence is computed over; 30 by default. */
  windowDays?: number;
  /** Each tenant's live burn rate, where its SLIs are readable (src/governance/live-burn.ts). */
  liveBurn?: { of(tenant: string): { burn_rate: number } | undefined };
  /** Each tenant's metered month-to-date spend, where Prometheus can be read (src/governance/live-spend.ts). */
  liveSpend?: { of(tenant: string): { month_to_date_usd: number; basis: string } | undefined };
}

/** The App Home's facts from the audit log, the autonomy manager, the tenants file and the metric source. */
export class AuditHome implements HomeSource {
  constructor(private readonly deps: AuditHomeDeps) {}

  async facts(): Promise<HomeFacts> {
    const now = this.deps.clock.now();
    const windowDays = this.deps.windowDays ?? 30;
    const since = new Date(now - windowDays * 86_400_000).toISOString();
    const [records, coverage] = await Promise.all([this.deps.audit.list({ since }), this.deps.coverage()]);
    const byProposal = new Map<string, typeof records>();
    for (const r of records) if (r.proposal_id) byProposal.set(r.proposal_id, [...(byProposal.get(r.proposal_id) ?? []), r]);
    // The approval queue in the order the Arbitrator's priorities give it: work for a tenant burning
    // its budget fastest first (a throttle counts for the tenant it protects), then oldest first.
    const active = activePriorities(records.filter((r) => r.kind === 'priority_raised' || r.kind === 'priority_lowered'));
    const rank = (l: ProposalLife) => active.get(beneficiary(l.proposal))?.burn_rate ?? 0;
    const pending = [...byProposal.values()]
      .flatMap((rs) => {
        const life = lifeOf(rs);
        return life && stageOf(life) === 'awaiting_approval' ? [life] : [];
      })
      .map((life, i) => ({ life, i }))
      .sort((a, b) => rank(b.life) - rank(a.life) || a.i - b.i)
      .map((x) => x.life);
    return {
      phase: this.deps.autonomy.phase,
      agents: this.deps.autonomy.statuses(),
      pending,
      priorities: [...active.values()].sort((a, b) => b.burn_rate - a.burn_rate),
      tenants: Object.entries(this.deps.tenants).map(([name, t]) => {
        const live = this.deps.liveBurn?.of(name);
        const spend = this.deps.liveSpend?.of(name);
        return {
          name, tier: t.tier, burn_rate: live?.burn_rate ?? t.burn_rate, burn_source: live ? ('live' as const) : ('configured' as const),
          monthly_budget_usd: t.monthly_budget_usd, month_to_date_usd: spend?.month_to_date_usd ?? t.month_to_date_usd,
          spend_basis: spend?.basis ?? 'billed figure from the tenants file',
        };
      }),
      evidence: phaseEvidence(records, coverage),
      windowDays,
      atMs: now,
    };
  }

  async view(): Promise<HomeView> {
    return homeView(await this.facts());
  }
}

type HomeArgs = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

export function registerAppHome(app: App, opts: { home: HomeSource; logger: Logger; track?: (work: Promise<unknown>) => void }): void {
  const log = opts.logger.child({ component: 'app-home' });
  app.event('app_home_opened', async ({ event, client }: HomeArgs) => {
    // The Messages tab opens this event too; only the Home tab has a view to publish.
    if (event.tab !== 'home') return;
    const work = (async () => {
      const view = await opts.home.view(event.user);
      await client.views.publish({ user_id: event.user, view });
      log.debug({ user_id: event.user }, 'app home published');
    })();
    opts.track?.(work);
    await work;
  });
}
