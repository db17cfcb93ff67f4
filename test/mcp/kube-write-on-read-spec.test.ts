// writeOnReadSpec: a 409 is retried at the fresh resourceVersion only while the object's generation
// (its spec) is the one the decision was read from. The control-plane suite shows it against a real
// API server; here, each branch with scripted answers that fail loudly when unscripted.
import { describe, expect, it } from 'vitest';
import { GovernorError } from '../../src/core/errors.ts';
import { writeOnReadSpec } from '../../mcp-servers/kubernetes/kube-client.ts';

const conflict = () => new GovernorError('conflict', 'the object has been modified', { retryable: true, details: { status: 409 } });

const lost = () => new GovernorError('upstream_unavailable', 'scale of deployment acme-prod/checkout: fetch failed', { retryable: true, details: { api: 'kubernetes' } });

/** Writes answered as scripted ('lost': no answer from the API server), and the objects read again. */
function scripted(answers: Array<'ok' | 'conflict' | 'lost'>, rereads: Array<{ resourceVersion: string; generation: number; replicas?: number }>) {
  const writes: Array<string | undefined> = [];
  return {
    writes,
    write: async (rv: string | undefined) => {
      writes.push(rv);
      const a = answers.shift();
      if (a === undefined) throw new Error('unscripted write');
      if (a === 'conflict') throw conflict();
      if (a === 'lost') throw lost();
      return `written at ${rv}`;
    },
    reread: async () => {
      const r = rereads.shift();
      if (!r) throw new Error('unscripted read');
      const { replicas, ...metadata } = r;
      return { metadata, ...(replicas === undefined ? {} : { spec: { replicas } }) };
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

  describe('a write whose answer was lost (connection reset, API server unreachable)', () => {
    const wants = (replicas: number) => ({ applied: (fresh: { spec?: { replicas?: number } }) => (fresh.spec?.replicas === replicas ? `already ${replicas}` : undefined), forMs: 5_000 });

    it('is sent again with the same precondition until the API server answers: applied once', async () => {
      const s = scripted(['lost', 'lost', 'ok'], []);
      await expect(writeOnReadSpec({ resourceVersion: '10', generation: 3 }, s.reread, s.write, 3, wants(12))).resolves.toBe('written at 10');
      expect(s.writes).toEqual(['10', '10', '10']);
    });

    it('went through the first time when the object now holds what it wanted: that is its result, nothing written again', async () => {
      const s = scripted(['lost', 'conflict'], [{ resourceVersion: '11', generation: 4, replicas: 12 }]);
      await expect(writeOnReadSpec({ resourceVersion: '10', generation: 3 }, s.reread, s.write, 3, wants(12))).resolves.toBe('already 12');
      expect(s.writes).toEqual(['10', '10']);
    });

    it('lets the conflict stand when the object changed to something else', async () => {
      const s = scripted(['lost', 'conflict'], [{ resourceVersion: '11', generation: 4, replicas: 9 }]);
      await expect(writeOnReadSpec({ resourceVersion: '10', generation: 3 }, s.reread, s.write, 3, wants(12))).rejects.toMatchObject({ code: 'conflict' });
    });

    it('gives up after its time with the first error: the write may have happened', async () => {
      const s = scripted(Array(20).fill('lost'), []);
      const err = await writeOnReadSpec({ resourceVersion: '10', generation: 3 }, s.reread, s.write, 3, { ...wants(12), forMs: 1_200 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'upstream_unavailable' });
      expect(s.writes.length).toBeGreaterThanOrEqual(2);
      expect(s.writes.length).toBeLessThan(6);
    });

    it('without a settlement, a lost answer is not retried', async () => {
      const s = scripted(['lost'], []);
      await expect(writeOnReadSpec({ resourceVersion: '10', generation: 3 }, s.reread, s.write)).rejects.toMatchObject({ code: 'upstream_unavailable' });
      expect(s.writes).toEqual(['10']);
    });
  });
});
