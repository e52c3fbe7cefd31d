// Writers on one workspace: real processes — two `ae-studio` CLIs, a studio host (as serve mode
// runs it) in this process, two settings writers — sharing one workspace folder. One process owns a
// run while it trains (owner.lock + owner.json in the run folder); every other one refuses to train
// it and lists it as "training elsewhere", follows it live, refuses to delete the dataset it reads;
// a SIGKILLed owner's lock is stale at once and Resume takes it over; two settings writers keep
// each other's keys. One row of the reliability table: "writers on one workspace", data lost 0.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEventPayload, RunSummary } from '../../src-main/contract';
import { repoRoot } from '../helpers/trainer';
import { createHarness, tempDir, type Harness } from './harness';
import { tally } from './record';

const cliPath = path.join(repoRoot, 'dist-main', 'cli.cjs');
const t = tally('fault', 'writers on one workspace (2 CLIs, a studio, 2 settings writers)');
let ws: string;
let datasetId: string;
const children: ChildProcess[] = [];

interface Cli {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  done: Promise<number | null>;
  /** Resolves with the first stdout line that matches. */
  line(pred: (l: string) => boolean, timeoutMs?: number): Promise<string>;
}

/** Starts the built CLI in its own process group (so its trainer can be signalled with it). */
function cli(args: string[]): Cli {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: ws,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  const lines: string[] = [];
  let pending = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    pending += d;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (err += d));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => err,
    done,
    line: (pred, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no such line; stdout: ${lines.slice(-5).join(' | ')}; stderr: ${err.slice(-500)}`)),
          timeoutMs,
        );
        const look = () => {
          const hit = lines.find(pred);
          if (hit !== undefined) {
            clearTimeout(timer);
            resolve(hit);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(
              new Error(
                `the CLI exited (${child.exitCode}) first; stdout: ${lines.slice(-5).join(' | ')}; stderr: ${err.slice(-800)}`,
              ),
            );
          } else waiters.push(look);
        };
        look();
      }),
  };
}

const json = (l: string) => JSON.parse(l) as Record<string, unknown>;
const isJson = (l: string) => l.startsWith('{');
const runsJson = async (): Promise<Array<RunSummary & { datasetName: string }>> => {
  const c = cli(['runs', '--workspace', ws, '--json']);
  expect(await c.done).toBe(0);
  return JSON.parse(c.lines.join('\n'));
};
/** The trainer processes a CLI started (its children), so a test can wait until they are gone too. */
const childPids = (pid: number): number[] => {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
};
const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};
async function waitGone(pids: number[], timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (pids.some((p) => !gone(p))) {
    if (Date.now() > until) throw new Error(`processes ${pids.join(', ')} still run`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-main.mjs')], {
    cwd: repoRoot,
    stdio: 'ignore',
  });
  ws = tempDir('writers');
  // long.json trains until Ctrl-C: a conv model at batch 10, so that an epoch on 3,000 images lasts
  // longer than the once-a-second progress file and look (a tiny dense model's epochs finished
  // before any batch could be seen elsewhere); short.json runs to its end quickly
  fs.writeFileSync(
    path.join(ws, 'long.json'),
    JSON.stringify({
      kind: 'conv',
      latentDim: 8,
      hidden: [16, 32],
      epochs: 300,
      batchSize: 10,
      seed: 3,
      previewEvery: 1000,
    }),
  );
  fs.writeFileSync(
    path.join(ws, 'short.json'),
    JSON.stringify({
      kind: 'dense',
      latentDim: 8,
      hidden: [32],
      epochs: 3,
      batchSize: 50,
      seed: 3,
      previewEvery: 1000,
    }),
  );
  const added = cli(['builtin', 'shapes', '--workspace', ws, '--json']);
  expect(await added.done).toBe(0);
  datasetId = json(added.lines.find(isJson) as string).id as string;
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(-c.pid, 'SIGKILL');
  t.done();
});

describe('writers on one workspace', () => {
  it('a run training in one CLI is refused to a second CLI and to a studio, listed as training elsewhere, followed live; its dataset cannot be deleted; Ctrl-C ends it as an ordinary stopped run', async () => {
    let h: Harness | undefined;
    await t
      .attempt(async () => {
        const a = cli([
          'train',
          '--workspace',
          ws,
          '--dataset',
          datasetId,
          '--config',
          'long.json',
          '--count',
          '3000',
          '--json',
        ]);
        const runId = json(await a.line((l) => isJson(l) && json(l).type === 'start')).runId as string;
        await a.line((l) => isJson(l) && json(l).type === 'epoch');
        const ownerPid = a.child.pid as number;
        const owner = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'owner.json'), 'utf8'));
        expect(owner).toMatchObject({
          pid: ownerPid,
          host: os.hostname(),
          app: 'cli',
          what: 'training',
          dataset: datasetId,
        });

        // a second CLI: refused in plain words naming the owner; nothing written
        const runJsonBefore = fs.readFileSync(path.join(ws, 'runs', runId, 'run.json'), 'utf8');
        const b = cli(['train', '--workspace', ws, '--resume', runId]);
        expect(await b.done).toBe(1);
        expect(b.stderr()).toMatch(
          new RegExp(
            `Run ${runId} is training in another studio — process ${ownerPid} on ${os.hostname()} since \\d\\d:\\d\\d; stop it there, or wait\\.`,
          ),
        );
        expect(JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'owner.json'), 'utf8')).pid).toBe(ownerPid);
        const afterRefusal = JSON.parse(
          fs.readFileSync(path.join(ws, 'runs', runId, 'run.json'), 'utf8'),
        ) as RunSummary;
        expect(afterRefusal.epochsDone).toBeGreaterThanOrEqual(JSON.parse(runJsonBefore).epochsDone); // only the owner moved it on

        // `runs` lists it as training elsewhere, never interrupted
        const listed = (await runsJson()).find((r) => r.runId === runId) as RunSummary;
        expect(listed.status).toBe('training-elsewhere');
        expect(listed.message).toMatch(new RegExp(`process ${ownerPid}`));
        const text = cli(['runs', '--workspace', ws]);
        expect(await text.done).toBe(0);
        expect(text.lines.join('\n')).toMatch(/training elsewhere/);
        expect(text.lines.join('\n')).not.toMatch(/Interrupted/);

        // a studio (a host as serve mode runs it) on the same workspace
        h = createHarness(ws);
        const seen = (await h.list()).find((r) => r.runId === runId) as RunSummary;
        expect(seen.status).toBe('training-elsewhere');
        for (const call of ['runs:resume', 'runs:stop'] as const) {
          const r = await h.host.dispatch(call, { runId });
          expect(r).toMatchObject({ ok: false, error: { code: 'conflict' } });
          if (!r.ok) expect(r.error.message).toMatch(new RegExp(`is training in another studio — process ${ownerPid}`));
        }
        const rename = await h.host.dispatch('runs:update', { runId, name: 'mine now' });
        expect(rename).toMatchObject({ ok: false, error: { code: 'conflict' } });
        // the dataset the run reads: delete and Browse-remove refused, naming the run and its owner
        for (const [call, payload] of [
          ['datasets:delete', { id: datasetId }],
          ['datasets:removeImages', { id: datasetId, indices: [0] }],
        ] as const) {
          const r = await h.host.dispatch(call, payload);
          expect(r).toMatchObject({ ok: false, error: { code: 'conflict' } });
          if (!r.ok)
            expect(r.error.message).toMatch(
              new RegExp(`Run ${runId} is training on this dataset in another studio — process ${ownerPid}`),
            );
        }
        expect(fs.existsSync(path.join(ws, 'datasets', datasetId, 'manifest.json'))).toBe(true);
        // live: the studio relays the epochs the CLI trains as its own run events
        const mark = h.events.length;
        const epochEvent = () =>
          h!.events
            .slice(mark)
            .find(
              ([n, p]) =>
                n === 'runs:event' &&
                (p as RunEventPayload).runId === runId &&
                (p as RunEventPayload).event.type === 'epoch',
            );
        const until = Date.now() + 60_000;
        while (!epochEvent() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        expect(epochEvent(), 'an epoch of the CLI run reached the studio').toBeTruthy();
        const batchEvent = () =>
          h!.events
            .slice(mark)
            .find(
              ([n, p]) =>
                n === 'runs:event' &&
                (p as RunEventPayload).runId === runId &&
                (p as RunEventPayload).event.type === 'batch',
            );
        // its own wait: the owner writes progress.json at most once a second and the studio looks once a
        // second, so on a loaded machine the first batch can come well after the epoch did
        const untilBatch = Date.now() + 60_000;
        while (!batchEvent() && Date.now() < untilBatch) await new Promise((r) => setTimeout(r, 100));
        expect(batchEvent(), 'the progress of the CLI run (its latest batch) reached the studio').toBeTruthy();

        // Ctrl-C in the owner's terminal: an ordinary stopped run, resumable, everywhere
        const statusMark = h.events.length;
        process.kill(-ownerPid, 'SIGINT');
        expect(await a.done).toBe(130);
        const stopped = await h.waitStatus(runId, 'stopped', statusMark, 30_000);
        expect(stopped.message ?? '').not.toMatch(/Interrupted/);
        expect(fs.existsSync(path.join(ws, 'runs', runId, 'owner.lock'))).toBe(false);
        expect(fs.existsSync(path.join(ws, 'runs', runId, 'owner.json'))).toBe(false);
        expect(fs.existsSync(path.join(ws, 'runs', runId, 'progress.json'))).toBe(false);
        const final = (await runsJson()).find((r) => r.runId === runId) as RunSummary;
        expect(final.status).toBe('stopped');
        const state = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'checkpoint', 'state.json'), 'utf8')) as {
          epochsDone: number;
          history: { loss: number[] };
        };
        if (state.epochsDone !== final.epochsDone || final.history.loss.length !== final.epochsDone) t.lost();
        expect(final.history.loss).toHaveLength(final.epochsDone);
        expect(state.epochsDone).toBe(final.epochsDone);
        // now the dataset is free again
        expect(await h.host.dispatch('datasets:removeImages', { id: datasetId, indices: [399] })).toMatchObject({
          ok: true,
        });
      })
      .finally(() => h?.dispose());
  });

  it("the owner SIGKILLed: its lock is stale at once (its process is gone), the run is interrupted, not training elsewhere, and a second CLI's resume takes it over and finishes it", async () => {
    await t.attempt(async () => {
      const a = cli([
        'train',
        '--workspace',
        ws,
        '--dataset',
        datasetId,
        '--config',
        'short.json',
        '--count',
        '400',
        '--json',
      ]);
      const runId = json(await a.line((l) => isJson(l) && json(l).type === 'start')).runId as string;
      const first = json(await a.line((l) => isJson(l) && json(l).type === 'epoch'));
      const ownerPid = a.child.pid as number;
      const trainers = childPids(ownerPid);
      process.kill(ownerPid, 'SIGKILL'); // the CLI only: its trainer exits when its parent's channel closes
      await a.done;
      await waitGone(trainers);
      expect(fs.existsSync(path.join(ws, 'runs', runId, 'owner.lock')), 'a SIGKILLed process leaves its lock').toBe(
        true,
      );
      const listed = (await runsJson()).find((r) => r.runId === runId) as RunSummary;
      expect(listed.status).toBe('stopped');
      expect(listed.message).toMatch(/Interrupted/);

      const b = cli(['train', '--workspace', ws, '--resume', runId, '--json']);
      const end = json(await b.line((l) => isJson(l) && json(l).type === 'end', 180_000));
      expect(await b.done).toBe(0);
      expect(end).toMatchObject({ status: 'completed', epochsDone: 3 });
      const final = (await runsJson()).find((r) => r.runId === runId) as RunSummary;
      expect(final.status).toBe('completed');
      // the epochs before the kill are kept: resumed from the checkpoint, not from scratch
      if (final.history.loss.length !== 3 || final.history.loss[0] !== first.loss) t.lost();
      expect(final.history.loss).toHaveLength(3);
      expect(final.history.loss[0]).toBe(first.loss);
      expect(fs.existsSync(path.join(ws, 'runs', runId, 'owner.lock'))).toBe(false);
    });
  });

  it("two processes writing settings at once keep each other's keys", async () => {
    await t.attempt(async () => {
      const script = path.join(repoRoot, 'test', 'reliability', 'fixtures', 'settings-writer.ts');
      const rounds = 25;
      const writer = (key: string) =>
        new Promise<unknown>((resolve, reject) => {
          const c = spawn(process.execPath, ['--import', 'tsx', script, ws, key, String(rounds)], {
            cwd: repoRoot,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          children.push(c);
          let out = '';
          let err = '';
          c.stdout.on('data', (d) => (out += d));
          c.stderr.on('data', (d) => (err += d));
          c.on('close', (code) =>
            code === 0
              ? resolve(JSON.parse(out.trim().split('\n').at(-1) as string).last)
              : reject(new Error(`settings writer ${key} exited ${code}: ${err}`)),
          );
        });
      const [theme, maxConcurrentRuns] = await Promise.all([writer('theme'), writer('maxConcurrentRuns')]);
      const settings = JSON.parse(fs.readFileSync(path.join(ws, 'settings.json'), 'utf8'));
      if (settings.theme !== theme || settings.maxConcurrentRuns !== maxConcurrentRuns) t.lost();
      expect(settings).toMatchObject({ theme, maxConcurrentRuns });
      expect(fs.existsSync(path.join(ws, 'settings.json.lock'))).toBe(false);
    });
  });
});
