import { describe, expect, it } from 'vitest';
import { intentOf } from '../../src/governance/incident-answers.ts';

describe('what an incident question asks', () => {
  it.each([
    ['why did you roll back?', 'rollback'],
    ['Why was checkout reverted', 'rollback'],
    ['who approved the scale?', 'approval'],
    ['who approved the rollback?', 'approval'],
    ['why 12 replicas?', 'scale'],
    ['what would have happened without it?', 'counterfactual'],
    ['what if you had not scaled?', 'counterfactual'],
    ['did it help?', 'outcome'],
    ['is it fixed now', 'outcome'],
    ['', 'summary'],
    ['tell me a joke', 'summary'],
  ])('%j → %s', (q, intent) => expect(intentOf(q)).toBe(intent));
});
