import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';

describe('VirtualClock', () => {
  it('fires timers in time order with now() at their due time, and cancels', async () => {
    const c = new VirtualClock(0);
    const seen: [string, number][] = [];
    c.setTimer(30, () => seen.push(['b', c.now()]));
    c.setTimer(10, () => seen.push(['a', c.now()]));
    const cancel = c.setTimer(20, () => seen.push(['x', c.now()]));
    cancel();
    await c.advance(25);
    expect(seen).toEqual([['a', 10]]);
    expect(c.now()).toBe(25);
    await c.advance(10);
    expect(seen).toEqual([['a', 10], ['b', 30]]);
  });
  it('fires timers set by timers within the same advance', async () => {
    const c = new VirtualClock(0);
    let n = 0;
    const tick = () => c.setTimer(5, () => { n++; tick(); });
    tick();
    await c.advance(50);
    expect(n).toBe(10);
  });
});
