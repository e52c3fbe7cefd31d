// "The host is killed while saving": a child process saves checkpoints / dataset manifests / the
// workspace's settings in a loop through the real engine, store and workspace code and is
// SIGKILLed at random moments, many times; after every kill the previous good state must load.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/trainer';
import { tempDir } from './harness';
import { tally } from './record';
import { readableDir } from '../../src-main/fs-safety/atomic';
import { listDatasets, loadDataset } from '../../src-main/datasets/store';
import { openWorkspaceDir } from '../../src-main/host/workspace';

const script = path.join(repoRoot, 'test', 'reliability', 'fixtures', 'save-loop.ts');

/**
 * Runs the save loop and SIGKILLs it: `when` picks the moment from the lines it printed.
 * Resolves with the last generation it reported complete.
 */
function runAndKill(
  mode: string,
  dir: string,
  when: (lines: string[]) => boolean,
): Promise<{ lastSaved: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, mode, dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    const lines: string[] = [];
    let buf = '';
    let err = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`save loop never reached the kill point: ${lines.slice(-5).join(' | ')} ${err.slice(-500)}`));
    }, 60_000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      lines.push(...parts);
      if (!killed && when(lines)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('close', (_code, signal) => {
      // 'close': every line it printed has been read
      clearTimeout(timer);
      if (signal !== 'SIGKILL')
        return reject(new Error(`save loop exited by itself: ${lines.slice(-3).join(' | ')} ${err.slice(-800)}`));
      const saved = lines.filter((l) => l.startsWith('saved ')).map((l) => Number(l.slice(6)));
      resolve({ lastSaved: saved.length ? Math.max(...saved) : -1, lines });
    });
  });
}

/** Kill after the first save plus a random number (0–6) of further lines: lands anywhere in a save. */
function randomMoment(): (lines: string[]) => boolean {
  const extra = Math.floor(Math.random() * 7);
  let from = -1;
  return (lines) => {
    if (from < 0) {
      const i = lines.findIndex((l) => l.startsWith('saved '));
      if (i < 0) return false;
      from = i;
    }
    return lines.length - 1 - from >= extra;
  };
}

const KILLS = 8;

describe('faults: the host killed while saving', () => {
  it(`checkpoints: ${KILLS} SIGKILLs at random moments, the last good checkpoint always loads`, async () => {
    const t = tally('fault', 'SIGKILL while saving a checkpoint');
    const { loadAutoencoder, loadOptimizer } = await import('../../src-main/engine/persist');
    const { makeOptimizer, validateConfig } = await import('../../src-main/engine');
    const dir = tempDir('kill-ckpt');
    let floor = 0; // the newest generation ever reported saved
    try {
      for (let i = 0; i < KILLS; i++) {
        await t.attempt(async () => {
          const { lastSaved } = await runAndKill('checkpoint', dir, randomMoment());
          floor = Math.max(floor, lastSaved);
          const readable = readableDir(path.join(dir, 'checkpoint'));
          if (!readable) t.lost();
          expect(readable, `kill ${i}: no checkpoint left`).toBeDefined();
          const state = JSON.parse(fs.readFileSync(path.join(readable as string, 'state.json'), 'utf8')) as {
            gen: number;
          };
          // the checkpoint is the last one reported saved, or the one being saved if its rename landed
          if (state.gen < floor) t.lost();
          expect(state.gen).toBeGreaterThanOrEqual(floor);
          expect(state.gen).toBeLessThanOrEqual(floor + 1);
          const ae = await loadAutoencoder(readable as string);
          const c = validateConfig(
            { kind: 'dense', inputShape: [28, 28, 1], latentDim: 16, hidden: [64] },
            { count: 1000, shape: [28, 28, 1] },
          );
          const opt = makeOptimizer((c as { config: Parameters<typeof makeOptimizer>[0] }).config);
          await loadOptimizer(opt, readable as string);
          expect(ae.encoder.outputs[0].shape).toEqual([null, 16]);
          ae.encoder.dispose();
          ae.decoder.dispose();
          opt.dispose();
        });
      }
    } finally {
      t.done();
    }
  });

  it('a kill in the window between the two renames (only checkpoint.old left), then another kill mid-save: still loads', async () => {
    const t = tally('fault', 'SIGKILL between the renames, then mid-save');
    const dir = tempDir('kill-window');
    try {
      await t.attempt(async () => {
        // one good save, then make the state a kill between rename(dir → .old) and rename(tmp → dir) leaves
        const first = await runAndKill('checkpoint', dir, (l) => l.includes('saved 1'));
        expect(first.lastSaved).toBeGreaterThanOrEqual(1);
        const ckpt = path.join(dir, 'checkpoint');
        fs.rmSync(`${ckpt}.old`, { recursive: true, force: true });
        fs.renameSync(ckpt, `${ckpt}.old`);
        fs.mkdirSync(`${ckpt}.tmp-99999-1`); // and the half-written temp folder
        const good = JSON.parse(fs.readFileSync(path.join(`${ckpt}.old`, 'state.json'), 'utf8')).gen as number;
        expect(readableDir(ckpt)).toBe(`${ckpt}.old`);
        // the next process starts saving and is killed while writing its first checkpoint
        const second = await runAndKill('checkpoint-slow', dir, (l) => l.some((x) => x.startsWith('filling ')));
        expect(second.lastSaved).toBe(-1);
        const readable = readableDir(ckpt);
        if (!readable) t.lost();
        expect(readable, 'the good checkpoint was deleted before the new one existed').toBeDefined();
        const gen = JSON.parse(fs.readFileSync(path.join(readable as string, 'state.json'), 'utf8')).gen as number;
        expect(gen).toBeGreaterThanOrEqual(good);
      });
    } finally {
      t.done();
    }
  });

  it(`workspace settings: ${KILLS} SIGKILLs while settings.json is saved, the workspace opens unflagged with the last or the next settings`, async () => {
    const t = tally('fault', 'SIGKILL while saving the workspace settings (settings.json)');
    const ws = tempDir('kill-workspace');
    try {
      for (let i = 0; i < KILLS; i++) {
        await t.attempt(async () => {
          const { lastSaved } = await runAndKill('workspace', ws, randomMoment());
          const opened = openWorkspaceDir(ws);
          if (opened.flagged.length) t.lost(opened.flagged.length);
          expect(opened.flagged).toEqual([]);
          // the generation reported saved, or the one being written when the kill came
          const ok = [lastSaved, lastSaved + 1].map((g) => ({
            theme: g % 2 ? 'dark' : 'light',
            maxConcurrentRuns: (g % 4) + 1,
          }));
          const match = ok.some(
            (s) => s.theme === opened.settings.theme && s.maxConcurrentRuns === opened.settings.maxConcurrentRuns,
          );
          if (!match) t.lost();
          expect(match, JSON.stringify({ lastSaved, settings: opened.settings })).toBe(true);
          // a kill mid-write may leave settings.json.tmp-PID: never read, and not flagged (above)
          expect(fs.readdirSync(ws).filter((n) => n.endsWith('.damaged'))).toEqual([]);
        });
      }
    } finally {
      t.done();
    }
  });

  it(`dataset manifests: ${KILLS} SIGKILLs during rename and write, every dataset still loads`, async () => {
    const t = tally('fault', 'SIGKILL while saving the dataset manifest / a dataset');
    const ws = tempDir('kill-manifest');
    let floor = 0;
    try {
      for (let i = 0; i < KILLS; i++) {
        await t.attempt(async () => {
          const { lastSaved } = await runAndKill('manifest', ws, randomMoment());
          floor = Math.max(floor, lastSaved);
          const list = listDatasets(ws);
          const damaged = list.filter((d) => 'error' in d);
          if (damaged.length) t.lost(damaged.length);
          expect(damaged).toEqual([]);
          const kept = list.find((d) => 'name' in d && d.name.startsWith('Kept')) as
            { id: string; name: string } | undefined;
          if (!kept) t.lost();
          const gen = Number(kept?.name.split(' ')[1]);
          if (gen < floor) t.lost();
          expect(gen).toBeGreaterThanOrEqual(floor);
          expect(gen).toBeLessThanOrEqual(floor + 1);
          // every complete dataset loads with its pixels; the extras reported saved are all there
          for (const d of list) expect(loadDataset(ws, d.id).images[1]).toBe(1);
          const extras = list
            .filter((d) => 'name' in d && d.name.startsWith('Extra'))
            .map((d) => Number((d as { name: string }).name.split(' ')[1]));
          for (let g = 1; g <= floor; g++) {
            if (!extras.includes(g)) t.lost();
            expect(extras).toContain(g);
          }
        });
      }
    } finally {
      t.done();
    }
  });
});
