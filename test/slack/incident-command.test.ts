// `/incident` argument parsing and answers: usage for anything it does not understand, `latest` by
// default for explain, the answer's source and citations always shown.
import { describe, expect, it } from 'vitest';
import { INCIDENT_USAGE, answerText, parseIncidentCommand, timelineText } from '../../src/slack/incident-command.ts';

const ID = '7d0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';

describe('parseIncidentCommand', () => {
  it('reads list, timeline and explain, with or without an id and a question', () => {
    expect(parseIncidentCommand('list')).toEqual({ kind: 'list' });
    expect(parseIncidentCommand(`timeline ${ID.toUpperCase()}`)).toEqual({ kind: 'timeline', id: ID });
    expect(parseIncidentCommand('timeline latest')).toEqual({ kind: 'timeline', id: 'latest' });
    expect(parseIncidentCommand('explain latest why did you roll back?')).toEqual({ kind: 'explain', id: 'latest', question: 'why did you roll back?' });
    expect(parseIncidentCommand(`explain ${ID} who approved the scale?`)).toEqual({ kind: 'explain', id: ID, question: 'who approved the scale?' });
    // No id: the latest incident, and the whole text is the question (even a word that looks like hex).
    expect(parseIncidentCommand('explain accede to what?')).toEqual({ kind: 'explain', id: 'latest', question: 'accede to what?' });
    expect(parseIncidentCommand('explain')).toEqual({ kind: 'explain', id: 'latest', question: undefined });
  });

  it('answers bad arguments with the usage', () => {
    for (const text of ['', 'frobnicate', 'timeline', 'timeline not-an-id', 'list extra', `timeline ${ID} more`]) {
      const r = parseIncidentCommand(text);
      expect(r.kind, text).toBe('invalid');
      expect(r.kind === 'invalid' && r.message, text).toContain(INCIDENT_USAGE.split('\n')[0]);
    }
  });
});

describe('answers', () => {
  it('say where the answer came from and what it cites', () => {
    const rules = answerText({ incident_id: ID, answer: 'Rolled back revision 2.', source: 'rules', llm: 'unavailable', cites: [{ seq: 12, kind: 'rollback', at: '2026-11-24T10:05:00Z' }, { seq: 9, kind: 'approval', at: '2026-11-24T10:03:00Z' }] }, 'why?');
    expect(rules).toMatch(/Source: rules over the records \(LLM unavailable\)\. Cites: #12 rollback, #9 approval/);
    const llm = answerText({ incident_id: ID, answer: 'x', source: 'llm', llm: 'used', cites: [] }, undefined);
    expect(llm).toMatch(/Source: a language model, over the records\. Cites: no records/);
  });

  it('a timeline line per record, with its offset and record number', () => {
    const text = timelineText({
      summary: { incident_id: ID, tenant: 'acme', service: 'acme-prod/checkout', opened_at: '2026-11-24T10:00:00Z', resolved_at: '2026-11-24T10:06:00Z', severity: 'critical', summary: 'p99 1240 ms' },
      entries: [{ at: '2026-11-24T10:02:00Z', t_s: 120, kind: 'execution_result', text: 'scaled 8 → 12', cites: { seq: 4, kind: 'execution_result', at: '2026-11-24T10:02:00Z' } }],
    });
    expect(text).toMatch(/`\+  120 s` \*execution_result\* scaled 8 → 12 _\(record #4\)_/);
    expect(text).toMatch(/resolved <!date\^/);
  });
});
