import { describe, expect, it } from 'vitest';
import { AutonomyLevels, levelForPhase } from '../../src/governance/autonomy.ts';

describe('autonomy', () => {
  it('follows the phase and never exceeds an agent maximum', () => {
    expect(levelForPhase('elastik', 'govern')).toBe(3);
    expect(levelForPhase('watchtower', 'govern')).toBe(2);
    expect(levelForPhase('strategist', 'govern')).toBe(1);
    expect(levelForPhase('elastik', 'assist')).toBe(2);
    expect(levelForPhase('elastik', 'observe')).toBe(1);
    const a = new AutonomyLevels('govern');
    a.setLevel('configurer', 3);
    expect(a.level('configurer')).toBe(2);
  });
  it('pause demotes everyone to level 1 until resumed', () => {
    const a = new AutonomyLevels('govern');
    a.pause();
    expect(a.level('elastik')).toBe(1);
    a.resume();
    expect(a.level('elastik')).toBe(3);
  });
});
