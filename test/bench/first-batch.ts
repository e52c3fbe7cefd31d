// `npm run bench:first-batch`: time to the first batch, for every preset of the Model view
// (src-renderer/stores/model/presets.ts), on the built studio (`npm run build:main` first):
//   (a) Train in the window: the trainer already running (the built trainer.cjs under a real host,
//       as the window and serve mode host it), from the `runs:start` call to the run's first
//       `batch` event — goal ≤ 1 s;
//   (b) the command line: from starting `node dist-main/cli.cjs train --json` to its first batch
//       line on stdout — goal ≤ 2 s (a fresh process: Node, the CLI, the trainer process and its
//       TensorFlow all start inside the time).
// Each run trains 1 epoch on its dataset and is stopped at its first batch. Datasets: the MNIST
// presets on the built-in digits (10,000), the 64 px presets (photos-64, inspection) on 2,000 64×64
// RGB pictures and photos-128 on 1,000 128×128 RGB pictures made from the digits (digits-rgb.ts),
// stored in a temporary workspace with the real store. ROUNDS rounds (default 3; each preset's
// round-1 (a) is also given apart: its first run in this trainer; the trainer's own start is
// TRAINER); PRESETS="conv photos-64" picks presets; `--quick` = 1 round. The (a) line also gives
// when the `runs:start` call answered (today: right after the first batch).
// Prints one ROUND line per measurement and a SUMMARY JSON line (medians per preset, the goals met).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunEventPayload, RunStatusPayload } from '../../src-main/contract';
import { writeDataset } from '../../src-main/datasets/store';
import { createHost } from '../../src-main/host';
import { TrainerSupervisor, forkSpawner } from '../../src-main/trainer/supervisor';
import { repoRoot } from '../helpers/trainer';
import { digitsRgb } from './digits-rgb';

const cli = path.join(repoRoot, 'dist-main', 'cli.cjs');
const trainerEntry = path.join(repoRoot, 'dist-main', 'trainer.cjs');
if (!fs.existsSync(cli) || !fs.existsSync(trainerEntry)) {
  console.error('first-batch: the built studio is needed; run `npm run build:main` first.');
  process.exit(1);
}
const ROUNDS = process.argv.includes('--quick') ? 1 : Number(process.env.ROUNDS ?? 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error('first-batch: ROUNDS must be a whole number ≥ 1.');
  process.exit(1);
}

// The Model view's presets, as the window has them (a renderer module: loaded at run time so that
// the node typecheck does not follow the renderer's `@contract` alias; its own check covers it).
interface Preset {
  id: string;
  arch: Record<string, unknown> & { kind: string; hidden: number[] };
}
const presetsModule = '../../src-renderer/stores/model/presets.ts';
const { PRESETS } = (await import(presetsModule)) as { PRESETS: Preset[] };
const wanted = (process.env.PRESETS ?? '').split(/[\s,]+/).filter(Boolean);
const unknown = wanted.filter((id) => !PRESETS.some((p) => p.id === id));
if (unknown.length) {
  console.error(`first-batch: no preset ${unknown.join(', ')} (the presets: ${PRESETS.map((p) => p.id).join(', ')}).`);
  process.exit(1);
}
const presets = wanted.length ? PRESETS.filter((p) => wanted.includes(p.id)) : PRESETS;

const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-first-batch-'));
async function storeDigitsRgb(name: string, n: number, up: number, border: number) {
  const d = digitsRgb(n, up, border, 'uint8');
  return writeDataset(
    ws,
    name,
    {
      images: d.images as Uint8Array,
      labels: Int32Array.from(d.labels ?? []),
      labelNames: [...'0123456789'],
      shape: d.shape,
      count: d.count,
    },
    { kind: 'import', paths: [] },
  );
}
const photos = {
  64: await storeDigitsRgb('digits 64 px', 2000, 2, 4),
  128: await storeDigitsRgb('digits 128 px', 1000, 4, 8),
};

/** The preset's run: its architecture and the form's defaults (newForm), 1 epoch, on the dataset it is meant for. */
function runOf(p: Preset): {
  config: Record<string, unknown>;
  dataset: { builtin: 'mnist'; count: number } | { id: string };
  cliDataset: string;
} {
  const side = p.id === 'photos-128' ? 128 : p.id === 'photos-64' || p.id === 'inspection' ? 64 : 28;
  const config = {
    ...p.arch,
    inputShape: side === 28 ? [28, 28, 1] : [side, side, 3],
    epochs: 1,
    validationSplit: 0.1,
    seed: 42,
    previewEvery: 20,
  };
  if (side === 28) return { config, dataset: { builtin: 'mnist', count: 10_000 }, cliDataset: 'mnist' };
  const m = photos[side];
  return { config, dataset: { id: m.id }, cliDataset: m.id };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round1 = (x: number) => Math.round(x);

// (a) Train in the window: one trainer for the whole bench, started before the first measurement.
const trainer = new TrainerSupervisor({ spawn: forkSpawner(trainerEntry), requestTimeoutMs: 600_000 });
const host = createHost({ mode: 'serve', version: 'bench', trainer, workspaceDir: ws });
async function call<T>(name: string, payload: unknown): Promise<T> {
  const r = await host.dispatch(name, payload);
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.result as T;
}
async function inWindow(p: Preset): Promise<{ firstBatchMs: number; startCallMs: number }> {
  const run = runOf(p);
  let runId = '';
  const early: Array<[string, unknown]> = [];
  let firstBatchAt = 0;
  let resolveBatch = () => undefined as void;
  const gotBatch = new Promise<void>((r) => (resolveBatch = r));
  let resolveEnd = () => undefined as void;
  const ended = new Promise<void>((r) => (resolveEnd = r));
  const handle = (name: string, payload: unknown) => {
    if (name === 'runs:event') {
      const e = payload as RunEventPayload;
      if (e.runId === runId && e.event.type === 'batch' && !firstBatchAt) {
        firstBatchAt = performance.now();
        resolveBatch();
      }
    } else if (name === 'runs:status') {
      const s = payload as RunStatusPayload;
      if (s.runId === runId && (s.status === 'completed' || s.status === 'stopped' || s.status === 'failed'))
        resolveEnd();
    }
  };
  const off = host.subscribe((name, payload) => (runId ? handle(name, payload) : early.push([name, payload])));
  const t0 = performance.now();
  try {
    ({ runId } = await call<{ runId: string }>('runs:start', { config: run.config, dataset: run.dataset }));
    const startCallMs = performance.now() - t0;
    for (const [n, pl] of early.splice(0)) handle(n, pl);
    await Promise.race([gotBatch, ended]);
    if (!firstBatchAt) throw new Error(`${p.id}: the run ended before its first batch`);
    await call('runs:stop', { runId });
    await ended;
    return { firstBatchMs: firstBatchAt - t0, startCallMs };
  } finally {
    off();
  }
}

// (b) The command line: a fresh `ae-studio train --json`, stopped (SIGTERM: after the batch) at its first batch line.
function fromCli(p: Preset): Promise<{ firstBatchMs: number; startLineMs: number }> {
  const run = runOf(p);
  const cfgFile = path.join(ws, `${p.id}.json`);
  fs.writeFileSync(cfgFile, JSON.stringify(run.config));
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [cli, 'train', '--workspace', ws, '--dataset', run.cliDataset, '--config', cfgFile, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let startLineMs = 0;
    let firstBatchMs = 0;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err += d));
    child.stdout.on('data', (d: string) => {
      out += d;
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        let o: { type?: string };
        try {
          o = JSON.parse(line) as { type?: string };
        } catch {
          continue;
        }
        if (o.type === 'start' && !startLineMs) startLineMs = performance.now() - t0;
        if (o.type === 'batch' && !firstBatchMs) {
          firstBatchMs = performance.now() - t0;
          child.kill('SIGTERM');
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (firstBatchMs) resolve({ firstBatchMs, startLineMs });
      else reject(new Error(`${p.id}: ae-studio train exited (${code}) before its first batch:\n${err.slice(-2000)}`));
    });
  });
}

const got: Record<string, { window: number[]; cli: number[]; windowStartCall: number[]; cliStartLine: number[] }> = {};
let trainerStartMs = 0;
try {
  const t0 = performance.now();
  await trainer.start();
  trainerStartMs = performance.now() - t0;
  console.log(`TRAINER ${JSON.stringify({ start_ms: round1(trainerStartMs) })}`);
  for (let r = 1; r <= ROUNDS; r++) {
    for (const p of presets) {
      const g = (got[p.id] ??= { window: [], cli: [], windowStartCall: [], cliStartLine: [] });
      const a = await inWindow(p);
      g.window.push(a.firstBatchMs);
      g.windowStartCall.push(a.startCallMs);
      const b = await fromCli(p);
      g.cli.push(b.firstBatchMs);
      g.cliStartLine.push(b.startLineMs);
      console.log(
        `ROUND ${JSON.stringify({ round: r, preset: p.id, window_first_batch_ms: round1(a.firstBatchMs), window_runs_start_ms: round1(a.startCallMs), cli_first_batch_ms: round1(b.firstBatchMs), cli_start_line_ms: round1(b.startLineMs), load: Number(os.loadavg()[0].toFixed(2)) })}`,
      );
    }
  }
  const per = Object.fromEntries(
    presets.map((p) => {
      const g = got[p.id];
      return [
        p.id,
        {
          window_first_batch_ms: round1(median(g.window)),
          window_first_batch_ms_first_round: round1(g.window[0]),
          window_runs_start_call_ms: round1(median(g.windowStartCall)),
          cli_first_batch_ms: round1(median(g.cli)),
          cli_start_line_ms: round1(median(g.cliStartLine)),
        },
      ];
    }),
  );
  const worstWindow = Math.max(...Object.values(per).map((v) => v.window_first_batch_ms));
  const worstCli = Math.max(...Object.values(per).map((v) => v.cli_first_batch_ms));
  console.log(
    `SUMMARY ${JSON.stringify({
      rounds: ROUNDS,
      threads: os.availableParallelism(),
      load_avg_1m: Number(os.loadavg()[0].toFixed(2)),
      trainer_start_ms: round1(trainerStartMs),
      presets: per,
      goal_window_ms: 1000,
      goal_cli_ms: 2000,
      window_goal_met: worstWindow <= 1000,
      cli_goal_met: worstCli <= 2000,
      slowest_window: presets.find((p) => per[p.id].window_first_batch_ms === worstWindow)?.id,
      slowest_cli: presets.find((p) => per[p.id].cli_first_batch_ms === worstCli)?.id,
    })}`,
  );
} finally {
  await trainer.stop();
  fs.rmSync(ws, { recursive: true, force: true });
}
