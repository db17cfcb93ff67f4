// The deployment phase from a watched file: a change applies without a restart (recorded and
// broadcast), a bad file is refused with a clear error and the phase in force stays.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import type { GovernorError } from '../../src/core/errors.ts';
import { PhaseFileWatcher, parsePhaseFile } from '../../src/governance/phase-file.ts';
import { autonomyWorld, waitFor } from './helpers.ts';

let world: Awaited<ReturnType<typeof autonomyWorld>> | undefined;
let dir: string | undefined;
const watchers: PhaseFileWatcher[] = [];
afterEach(async () => {
  for (const w of watchers.splice(0)) w.stop();
  await world?.close();
  world = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('parsePhaseFile', () => {
  it('accepts the four phases and names what is wrong otherwise', () => {
    expect(parsePhaseFile('{"phase":"assist"}', 'g.json')).toBe('assist');
    expect(() => parsePhaseFile('{"phase":"autopilot"}', 'g.json')).toThrow(/g.json is refused: phase: must be one of 'observe', 'advise', 'assist', 'govern'; the phase in force stays/);
    expect(() => parsePhaseFile('{"phase":', 'g.json')).toThrow(/g.json is not valid JSON/);
    expect(() => parsePhaseFile('{}', 'g.json')).toThrow(/phase: must be one of/);
  });
});

describe('PhaseFileWatcher', () => {
  it('applies a change of the file without a restart, in this process and in another, and refuses a broken file', async () => {
    world = await autonomyWorld({ defaultPhase: 'observe' });
    dir = await mkdtemp(join(tmpdir(), 'governor-phase-'));
    const path = join(dir, 'governor.json');
    await writeFile(path, '{ "phase": "assist" }\n');
    const main = await world.startProcess();
    const other = await world.startProcess();
    const invalid: GovernorError[] = [];
    const watcher = new PhaseFileWatcher({ path, target: main.manager, logger: silentLogger(), pollMs: 50, onInvalid: (e) => invalid.push(e) });
    watchers.push(watcher);

    expect(await watcher.start()).toMatchObject({ status: 'applied', phase: 'assist' });
    expect(main.manager.level('elastik')).toBe(2);

    await writeFile(path, '{ "phase": "govern" }\n');
    await waitFor(() => main.manager.phase === 'govern', 'the new phase from the file');
    await waitFor(() => other.manager.level('elastik') === 3, 'the new phase in the other process');

    await writeFile(path, '{ "phase": "full-auto" }\n');
    await waitFor(() => invalid.length > 0, 'the refusal');
    expect(invalid[0]!.message).toMatch(/is refused: phase: must be one of 'observe', 'advise', 'assist', 'govern'; the phase in force stays/);
    expect(main.manager.phase).toBe('govern');
    // Reported once, not on every poll.
    await new Promise((r) => setTimeout(r, 200));
    expect(invalid).toHaveLength(1);

    // A ConfigMap update: the file is replaced by a rename, not written in place.
    await writeFile(join(dir, 'next.json'), '{ "phase": "observe" }');
    await rename(join(dir, 'next.json'), path);
    await waitFor(() => other.manager.level('elastik') === 1, 'the replaced file');
    const phases = (await main.store.list()).filter((c) => c.kind === 'phase').map((c) => [c.phase, c.actor]);
    expect(phases).toEqual([['assist', 'config'], ['govern', 'config'], ['observe', 'config']]);
  });

  it('a missing file changes nothing, and a broken file at start leaves the stored phase in force', async () => {
    world = await autonomyWorld({ defaultPhase: 'govern' });
    dir = await mkdtemp(join(tmpdir(), 'governor-phase-'));
    const path = join(dir, 'governor.json');
    const p = await world.startProcess();
    const missing = new PhaseFileWatcher({ path, target: p.manager, logger: silentLogger() });
    watchers.push(missing);
    expect(await missing.check()).toEqual({ status: 'missing' });
    await writeFile(path, 'phase: govern');
    const broken = new PhaseFileWatcher({ path, target: p.manager, logger: silentLogger() });
    watchers.push(broken);
    expect(await broken.check()).toMatchObject({ status: 'invalid', error: { code: 'config_invalid' } });
    expect(p.manager.phase).toBe('govern');
    expect(await p.store.list()).toEqual([]);
  });
});
