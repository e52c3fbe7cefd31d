// One owner per run (host/ownership.ts) on real folders: the lock and owner.json, the refusal that
// names the owner, a gone owner's lock taken over at once, a silent one's after LOCK_STALE_MS, and
// the settings merged under their own lock. The processes on both sides are real (this one, and
// children that exit); the end-to-end cases with CLIs are in test/reliability/writers.rel.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LOCK_STALE_MS,
  OwnedElsewhere,
  liveRunOwners,
  ownerOf,
  runOwnedMessage,
  takeOwnership,
} from '../../../../src-main/host/ownership';
import { datasetInUse, readSettings, updateSettings } from '../../../../src-main/host/workspace';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ae-owner-'));
const refusal = (o: Parameters<typeof runOwnedMessage>[1]) => runOwnedMessage('run-x', o);
/** The id of a process that has exited (and been reaped). */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid as number;
/** A lock left in `dir` by someone else: the lock directory and its owner.json, touched `ageMs` ago. */
function foreignLock(dir: string, owner: object, ageMs = 0) {
  fs.mkdirSync(path.join(dir, 'owner.lock'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(owner));
  const t = (Date.now() - ageMs) / 1000;
  fs.utimesSync(path.join(dir, 'owner.lock'), t, t);
}

describe('one owner per run', () => {
  it('records the owner beside the lock, refuses a second taker naming it, and gives everything back on release', async () => {
    const dir = path.join(tmp(), 'runs', 'run-x');
    const held = await takeOwnership(dir, { app: 'cli', what: 'training', dataset: 'ds-1' }, { refusal });
    const owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8'));
    expect(owner).toMatchObject({
      pid: process.pid,
      host: os.hostname(),
      app: 'cli',
      what: 'training',
      dataset: 'ds-1',
    });
    expect(ownerOf(dir)).toMatchObject({ pid: process.pid });
    const second = takeOwnership(dir, { app: 'serve', what: 'training' }, { refusal });
    await expect(second).rejects.toBeInstanceOf(OwnedElsewhere);
    await expect(second).rejects.toThrow(
      new RegExp(
        `^Run run-x is training in another studio — process ${process.pid} on ${os.hostname()} since \\d\\d:\\d\\d; stop it there, or wait\\.$`,
      ),
    );
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8'))).toEqual(owner); // the refused one wrote nothing
    await held.release();
    expect(fs.existsSync(path.join(dir, 'owner.lock'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'owner.json'))).toBe(false);
    expect(ownerOf(dir)).toBeUndefined();
    await held.release(); // twice is harmless
  });

  it("takes over at once a lock whose process is gone on this host, and a silent one from another host after the stale time, never a live one's", async () => {
    const gone = path.join(tmp(), 'gone');
    foreignLock(gone, { pid: deadPid(), host: os.hostname(), since: Date.now(), app: 'cli', what: 'training' });
    expect(ownerOf(gone)).toBeUndefined();
    const a = await takeOwnership(gone, { app: 'serve', what: 'training' }, { refusal });
    expect(ownerOf(gone)).toMatchObject({ pid: process.pid, app: 'serve' });
    await a.release();

    const far = { pid: 4121, host: 'another-host', since: Date.now(), app: 'electron', what: 'training' };
    const fresh = path.join(tmp(), 'fresh');
    foreignLock(fresh, far);
    expect(ownerOf(fresh)).toMatchObject({ pid: 4121, host: 'another-host' });
    await expect(takeOwnership(fresh, { app: 'cli', what: 'training' }, { refusal })).rejects.toThrow(
      /process 4121 on another-host since/,
    );

    const silent = path.join(tmp(), 'silent');
    foreignLock(silent, far, LOCK_STALE_MS + 5000);
    expect(ownerOf(silent)).toBeUndefined();
    const b = await takeOwnership(silent, { app: 'cli', what: 'training' }, { refusal });
    expect(JSON.parse(fs.readFileSync(path.join(silent, 'owner.json'), 'utf8'))).toMatchObject({
      pid: process.pid,
      app: 'cli',
    });
    await b.release();
  });

  it('names the runs other processes train and the dataset each reads; a dataset is refused while one of them reads it', () => {
    const ws = tmp();
    const run = path.join(ws, 'runs', 'run-a');
    foreignLock(run, {
      pid: 4121,
      host: 'another-host',
      since: Date.now(),
      app: 'cli',
      what: 'training',
      dataset: 'ds-7',
    });
    expect(liveRunOwners(ws)).toEqual([
      { runId: 'run-a', owner: expect.objectContaining({ pid: 4121, dataset: 'ds-7' }) },
    ]);
    expect(datasetInUse(ws, 'ds-7', [], () => false)).toMatch(
      /^Run run-a is training on this dataset in another studio — process 4121 on another-host since \d\d:\d\d; delete or change it when that run has finished or is stopped\.$/,
    );
    expect(datasetInUse(ws, 'ds-8', [], () => false)).toBeUndefined();
    expect(
      datasetInUse(ws, 'ds-7', [], (id) => id === 'run-a'),
      "this studio's own run giving its lock back",
    ).toBeUndefined();
  });

  it('merges settings under their lock: writers of different keys keep each other’s', async () => {
    const ws = tmp();
    await Promise.all([
      updateSettings(ws, { theme: 'dark' }),
      updateSettings(ws, { maxConcurrentRuns: 3 }),
      updateSettings(ws, { theme: 'dark' }),
    ]);
    expect(readSettings(ws).settings).toMatchObject({ theme: 'dark', maxConcurrentRuns: 3 });
    expect(fs.existsSync(path.join(ws, 'settings.json.lock'))).toBe(false);
  });
});
