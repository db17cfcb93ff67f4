// The pure fold from autonomy changes to levels: phases, overrides, pauses and demotions, and the
// maximum no change can exceed.
import { describe, expect, it } from 'vitest';
import { AGENTS, AutonomyLevels, MAX_LEVEL, levelForPhase, type AutonomyChange } from '../../src/governance/autonomy.ts';

let epoch = 0;
const at = (min: number) => new Date(Date.parse('2026-11-24T10:00:00Z') + min * 60_000).toISOString();
function change(c: Partial<AutonomyChange> & Pick<AutonomyChange, 'kind'>, min = 0): AutonomyChange {
  return { epoch: ++epoch, at: at(min), agent: null, level: null, phase: null, actor: 'U1', reason: null, ...c };
}
const levels = (a: AutonomyLevels) => Object.fromEntries(AGENTS.map((x) => [x, a.level(x)]));

describe('levels from the phase', () => {
  it.each([
    ['observe', { watchtower: 1, elastik: 1, configurer: 1, arbitrator: 1, strategist: 1 }],
    ['advise', { watchtower: 1, elastik: 1, configurer: 1, arbitrator: 1, strategist: 1 }],
    ['assist', { watchtower: 2, elastik: 2, configurer: 2, arbitrator: 2, strategist: 1 }],
    ['govern', { watchtower: 2, elastik: 3, configurer: 2, arbitrator: 2, strategist: 1 }],
  ] as const)('%s', (phase, expected) => {
    expect(levels(new AutonomyLevels(phase))).toEqual(expected);
    for (const a of AGENTS) expect(levelForPhase(a, phase)).toBe(expected[a]);
  });

  it('a phase change applies to every agent and says why', () => {
    const a = new AutonomyLevels('observe');
    a.apply(change({ kind: 'phase', phase: 'govern', actor: 'config' }));
    expect(a.level('elastik')).toBe(3);
    expect(a.status('strategist').why).toMatch(/phase govern \(capped at its maximum 1\)/);
    expect(a.phaseRecorded).toBe(true);
  });
});

describe('overrides, capped at the maximum', () => {
  it('an override above the maximum is capped; a phase change resets overrides', () => {
    const a = new AutonomyLevels('govern');
    a.apply(change({ kind: 'level', agent: 'configurer', level: 3 }));
    expect(a.level('configurer')).toBe(MAX_LEVEL.configurer);
    a.apply(change({ kind: 'level', agent: 'elastik', level: 2, reason: 'new release' }));
    expect(a.level('elastik')).toBe(2);
    expect(a.status('elastik').why).toMatch(/set to 2 by U1 .*: new release/);
    a.apply(change({ kind: 'phase', phase: 'assist' }));
    a.apply(change({ kind: 'phase', phase: 'govern' }));
    expect(a.level('elastik')).toBe(3);
  });

  it('an override holds across other agents’ changes and can lower an agent in any phase', () => {
    const a = new AutonomyLevels('govern');
    a.apply(change({ kind: 'level', agent: 'elastik', level: 1 }));
    a.apply(change({ kind: 'level', agent: 'watchtower', level: 1 }));
    expect(levels(a)).toMatchObject({ elastik: 1, watchtower: 1, configurer: 2 });
  });
});

describe('pause, resume and demotion', () => {
  it('a pause holds everyone at 1 whatever the phase or override, and records its time', () => {
    const a = new AutonomyLevels('govern');
    a.apply(change({ kind: 'level', agent: 'configurer', level: 2 }));
    a.apply(change({ kind: 'pause', reason: 'incident 42' }, 5));
    expect(new Set(Object.values(levels(a)))).toEqual(new Set([1]));
    expect(a.pausedAtMs).toBe(Date.parse(at(5)));
    a.apply(change({ kind: 'phase', phase: 'govern' }, 6));
    expect(a.level('elastik')).toBe(1);
    expect(a.status('elastik').why).toMatch(/paused by U1 .*incident 42/);
  });

  it('after a pause only a human level change raises an agent, one agent at a time', () => {
    const a = new AutonomyLevels('govern');
    a.apply(change({ kind: 'pause' }, 1));
    a.apply(change({ kind: 'promotion', agent: 'elastik', level: 3 }, 2));
    expect(a.level('elastik')).toBe(3);
    expect(a.level('configurer')).toBe(1);
    expect(a.status('elastik').judgedSince).toBe(at(2));
    // The pause epoch stays: grants from before it remain void.
    expect(a.pausedAtMs).toBe(Date.parse(at(1)));
  });

  it('a resume lifts pauses but not demotions', () => {
    const a = new AutonomyLevels('govern');
    a.apply(change({ kind: 'demotion', agent: 'elastik', reason: '3 of 10 failed' }));
    a.apply(change({ kind: 'pause' }));
    a.apply(change({ kind: 'resume' }));
    expect(a.level('configurer')).toBe(2);
    expect(a.level('elastik')).toBe(1);
    expect(a.status('elastik').hold?.kind).toBe('demotion');
  });

  it('reset folds a list of changes into the same levels as applying them one by one', () => {
    const changes = [
      change({ kind: 'phase', phase: 'assist' }),
      change({ kind: 'level', agent: 'elastik', level: 3 }),
      change({ kind: 'demotion', agent: 'configurer', reason: 'x' }),
    ];
    const a = new AutonomyLevels('govern');
    for (const c of changes) a.apply(c);
    const b = new AutonomyLevels('observe');
    b.reset('govern', changes);
    expect(levels(b)).toEqual(levels(a));
    expect(b.epoch).toBe(changes.at(-1)!.epoch);
  });
});
