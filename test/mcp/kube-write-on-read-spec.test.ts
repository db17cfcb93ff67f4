// writeOnReadSpec: a 409 is retried at the fresh resourceVersion only while the object's generation
// (its spec) is the one the decision was read from. The control-plane suite shows it against a real
// API server; here, each branch with scripted answers that fail loudly when unscripted.
import { describe, expect, it } from 'vitest';
import { GovernorError } from '../../src/core/errors.ts';
import { writeOnReadSpec } from '../../mcp-servers/kubernetes/kube-client.ts';

const conflict = () => new GovernorError('conflict', 'the object has been modified', { retryable: true, details: { status: 409 } });

function scripted(answers: Array<'ok' | 'conflict'>, rereads: Array<{ resourceVersion: string; generation: number }>) {
  const writes: Array<string | undefined> = [];
  return {
    writes,
    write: async (rv: string | undefined) => {
      writes.push(rv);
      const a = answers.shift();
      if (a === undefined) throw new Error('unscripted write');
      if (a === 'conflict') throw conflict();
      return `written at ${rv}`;
    },
    reread: async () => {
      const r = rereads.shift();
      if (!r) throw new Error('unscripted read');
      return { metadata: r };
    },
  };
}

describe('writeOnReadSpec', () => {
  it('retries at the fresh resourceVersion when only status or labels changed (same generation)', async () => {
    const s = scripted(['conflict', 'ok'], [{ resourceVersion: '12', generation: 3 }]);
    await expect(writeOnReadSpec({ resourceVersion: '10', generation: 3 }, s.reread, s.write)).resolves.toBe('written at 12');
    expect(s.writes).toEqual(['10', '12']);
  });

  it('lets the conflict stand once the spec changed (a new generation)', async () => {
    const s = scripted(['conflict'], [{ resourceVersion: '12', generation: 4 }]);
    await expect(writeOnReadSpec({ resourceVersion: '10', generation: 3 }, s.reread, s.write)).rejects.toMatchObject({ code: 'conflict' });
    expect(s.writes).toEqual(['10']);
  });

  it('lets every conflict stand without a generation, and gives up after three writes', async () => {
    const none = scripted(['conflict'], []);
    await expect(writeOnReadSpec({ resourceVersion: '10' }, none.reread, none.write)).rejects.toMatchObject({ code: 'conflict' });
    const busy = scripted(['conflict', 'conflict', 'conflict'], [{ resourceVersion: '11', generation: 3 }, { resourceVersion: '12', generation: 3 }]);
    await expect(writeOnReadSpec({ resourceVersion: '10', generation: 3 }, busy.reread, busy.write)).rejects.toMatchObject({ code: 'conflict' });
    expect(busy.writes).toEqual(['10', '11', '12']);
  });

  it('never retries anything but a conflict', async () => {
    const reread = async () => {
      throw new Error('unscripted read');
    };
    const invalid = new GovernorError('input_invalid', 'spec.replicas: must be greater than or equal to 0', { details: { status: 422 } });
    await expect(writeOnReadSpec({ resourceVersion: '10', generation: 3 }, reread, async () => Promise.reject(invalid))).rejects.toBe(invalid);
  });
});
