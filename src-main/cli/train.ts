// `ae-studio train` and `ae-studio runs`: training from a terminal through the same host and trainer
// process as the window (runs land in <workspace>/runs/ and show up in the studio).
//   ae-studio train --workspace DIR --dataset NAME --config run.json [--count N] [--json]
//   ae-studio train --workspace DIR --dataset NAME --preset inspection [--config overrides.json] [--json]
//   ae-studio train --workspace DIR --resume RUN_ID [--json]
//   ae-studio runs --workspace DIR [--json]
// On a terminal `train` draws a progress bar (loss, samples/s, ETA); with --json it prints one JSON
// object per line and the last one (`"type":"end"`) holds the run id, its final losses and its measures per split.
// Ctrl-C stops after the current batch, keeps the last checkpoint and prints how to resume.
import fs from 'node:fs';
import path from 'node:path';
import { BUILTIN_NAMES } from '../datasets/builtins';
import { listDatasets } from '../datasets/store';
import { validateConfig, type RunEventPayload, type RunStatusPayload, type RunSummary, type EndMetrics } from '../contract';
import { createHost, type Host } from '../host';
import { TrainerSupervisor, forkSpawner } from '../trainer/supervisor';
import { UsageError } from './errors';
import { RUN_PRESETS, inspectionPreset } from '../contract/inspection';

/** What `train` prints to: stdout lines, and whether stdout is a terminal (progress bar). */
export interface TrainIO {
  out: (s: string) => void;
  /** Rewrites the current terminal line (progress bar); absent when stdout is not a terminal. */
  status?: (s: string) => void;
  err: (s: string) => void;
}

export interface TrainOptions {
  workspace: string;
  dataset?: string;
  config?: string;
  count?: string;
  resume?: string;
  /** `inspection`: the studio's inspection setup (contract/inspection.ts); --config, when given, overrides its fields. After training the run is calibrated (model/inspection.json). */
  preset?: string;
  json: boolean;
  verbose: boolean;
  /** The trainer bundle (dist-main/trainer.cjs next to cli.cjs). */
  trainerEntry: string;
}

/** The MNIST digits built into the studio (no import needed). */
const BUILTIN_RUN_DATASET = 'mnist';

type RunDataset = { builtin: 'mnist'; count: number } | { id: string; count?: number };

/** Finds `name` among the built-in MNIST and the workspace's datasets (by id or by name), or says which there are. */
export function resolveRunDataset(ws: string, name: string): { dataset: RunDataset; count: number; shape: [number, number, number]; title: string } {
  if (name.toLowerCase() === BUILTIN_RUN_DATASET) return { dataset: { builtin: 'mnist', count: 10_000 }, count: 10_000, shape: [28, 28, 1], title: 'MNIST (built in)' };
  const stored = listDatasets(ws).filter((d): d is Extract<typeof d, { name: string }> => !('error' in d));
  const hit = stored.find((d) => d.id === name) ?? stored.filter((d) => d.name.toLowerCase() === name.toLowerCase()).sort((a, b) => b.createdAt - a.createdAt)[0];
  if (hit) return { dataset: { id: hit.id }, count: hit.count, shape: hit.shape, title: `${hit.name} (${hit.id})` };
  const there = [`${BUILTIN_RUN_DATASET} (built in)`, ...stored.map((d) => `${d.id} (${d.name}, ${d.count} images)`)];
  const addable = (BUILTIN_NAMES as readonly string[]).includes(name) ? ` Add it first: ae-studio builtin ${name} --workspace ${ws}` : '';
  throw new UsageError(`There is no dataset '${name}' in ${ws}. Datasets there: ${there.join(', ')}.${addable}`, false);
}

/** Reads the run config file: a Model view config, or `{ "config": …, "dataset": … }` as `runs:start` takes it. */
export function readConfigFile(file: string): { config: Record<string, unknown>; dataset?: unknown } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `The config file ${file} does not exist.` : `The config file ${file} cannot be read (${code ?? (e as Error).message}).`, false);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`The config file ${file} is not valid JSON: ${(e as Error).message}.`, false);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UsageError(`The config file ${file} must hold one JSON object (the run's settings).`, false);
  const obj = json as Record<string, unknown>;
  if (obj.config && typeof obj.config === 'object' && !Array.isArray(obj.config)) return { config: obj.config as Record<string, unknown>, dataset: obj.dataset };
  return { config: obj };
}

const fmtNum = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : '–');
const fmtLoss = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n < 0.001 ? n.toExponential(3) : n.toFixed(4));
export function fmtDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '–';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** One progress line: `epoch 2/5 [#####-----] 48% · batch 30/47 · loss 0.0312 · 12,345 samples/s · ETA 0:23`. */
export function progressLine(e: { epoch: number; epochs: number; batch: number; batches: number; loss: number; samplesPerSec: number; etaSec: number }, width = 24): string {
  const frac = Math.min(1, Math.max(0, (e.epoch - 1 + e.batch / Math.max(1, e.batches)) / Math.max(1, e.epochs)));
  const filled = Math.round(frac * width);
  return `epoch ${e.epoch}/${e.epochs} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}% · batch ${e.batch}/${e.batches} · loss ${fmtLoss(e.loss)} · ${fmtNum(e.samplesPerSec)} samples/s · ETA ${fmtDuration(e.etaSec)}`;
}

function makeHost(ws: string, trainerEntry: string, verbose: boolean, err: (s: string) => void): { host: Host; trainer: TrainerSupervisor } {
  const trainer = new TrainerSupervisor({ spawn: forkSpawner(trainerEntry) });
  if (verbose) trainer.on('stderr', (chunk: string) => err(chunk.replace(/\n$/, '')));
  const host = createHost({ mode: 'cli', version: '', trainer, workspaceDir: ws });
  return { host, trainer };
}

async function call<T>(host: Host, name: string, payload: unknown): Promise<T> {
  const env = await host.dispatch(name, payload);
  if (!env.ok) throw new Error(env.error.message);
  return env.result as T;
}

/** `ae-studio train`: resolves to the exit code (0 completed, 1 failed, 130 stopped with Ctrl-C). */
export async function trainCommand(o: TrainOptions, io: TrainIO): Promise<number> {
  const ws = o.workspace;
  let start: { config: Record<string, unknown>; dataset: RunDataset } | undefined;
  let title = '';
  if (o.resume) {
    if (o.config || o.dataset) throw new UsageError('--resume continues a run with its own config and dataset; leave out --config and --dataset.');
    const runJson = path.join(ws, 'runs', o.resume, 'run.json');
    if (!/^[a-z0-9-]{1,64}$/.test(o.resume)) throw new UsageError(`'${o.resume}' is not a run id (see 'ae-studio runs --workspace ${ws}').`);
    if (!fs.existsSync(runJson)) throw new UsageError(`There is no run '${o.resume}' in ${ws} (see 'ae-studio runs --workspace ${ws}').`, false);
  } else {
    if (o.preset !== undefined && !(RUN_PRESETS as readonly string[]).includes(o.preset)) throw new UsageError(`--preset must be one of: ${RUN_PRESETS.join(', ')}.`);
    if (!o.config && !o.preset) throw new UsageError('--config run.json is required (the run settings the Model view shows; or --preset inspection, or --resume RUN_ID).');
    const file = o.config ? readConfigFile(path.resolve(o.config)) : { config: {} as Record<string, unknown>, dataset: undefined };
    const name =
      o.dataset ?? (file.dataset && typeof file.dataset === 'object' ? ((file.dataset as { id?: string; builtin?: string }).id ?? (file.dataset as { builtin?: string }).builtin) : undefined);
    if (!name) throw new UsageError(`--dataset NAME is required (${BUILTIN_RUN_DATASET} or a dataset of the workspace; see 'ae-studio datasets --workspace ${ws}').`);
    const found = resolveRunDataset(ws, name);
    let count = found.count;
    const fileCount = (file.dataset as { count?: unknown } | undefined)?.count;
    if (o.count === undefined && typeof fileCount === 'number' && Number.isInteger(fileCount) && fileCount > 0) o = { ...o, count: String(Math.min(fileCount, found.count)) };
    if (o.count !== undefined) {
      const n = Number(o.count);
      const min = 'builtin' in found.dataset ? 100 : 10;
      if (!Number.isInteger(n) || n < min || n > found.count) throw new UsageError(`--count must be a whole number from ${min} to ${found.count} (the images in ${found.title}).`);
      count = n;
    }
    const dataset: RunDataset = 'builtin' in found.dataset ? { builtin: 'mnist', count } : { id: found.dataset.id, ...(o.count !== undefined ? { count } : {}) };
    const preset = o.preset === 'inspection' ? (inspectionPreset(found.shape) as Record<string, unknown>) : {};
    const config = { ...preset, ...file.config, inputShape: file.config.inputShape ?? found.shape };
    const checked = validateConfig(config, { count, shape: found.shape });
    if (!checked.ok) {
      throw new UsageError(
        `The config ${o.config ? `in ${o.config}` : `of --preset ${o.preset}`} cannot train on ${found.title}:\n${checked.errors.map((e) => `  ${e.field}: ${e.message}`).join('\n')}`,
        false,
      );
    }
    start = { config, dataset };
    title = found.title;
  }

  fs.mkdirSync(ws, { recursive: true });
  const { host } = makeHost(ws, o.trainerEntry, o.verbose, io.err);
  const json = (obj: unknown) => io.out(JSON.stringify(obj));
  let runId = o.resume ?? '';
  let lastEpoch: Extract<RunEventPayload['event'], { type: 'epoch' }> | undefined;
  let lastBatchAt = 0;
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown && io.status) io.status('');
    statusShown = false;
  };
  const started = Date.now();
  let stopping = false;
  let announced = false;
  let replayEarly = () => undefined as void;
  let onSigint: (() => void) | undefined;

  try {
    const ended = new Promise<RunStatusPayload>((resolve) => {
      // Events can arrive before runs:start answers: they wait until the run's first line is out.
      const early: Array<[string, unknown]> = [];
      replayEarly = () => {
        for (const [n, p] of early.splice(0)) handle(n, p);
      };
      host.subscribe((name, payload) => {
        if (!announced) early.push([name, payload]);
        else handle(name, payload);
      });
      const handle = (name: string, payload: unknown) => {
        if (name === 'runs:event') {
          const p = payload as RunEventPayload;
          if (runId && p.runId !== runId) return;
          const e = p.event;
          if (e.type === 'batch') {
            const now = Date.now();
            if (o.json) {
              if (now - lastBatchAt >= 1000) {
                lastBatchAt = now;
                json({ runId: p.runId, ...e });
              }
            } else if (io.status && now - lastBatchAt >= 100) {
              lastBatchAt = now;
              io.status(progressLine({ ...e, epochs: lastEpoch?.epochs ?? Number(start?.config.epochs ?? 0) }));
              statusShown = true;
            }
          } else if (e.type === 'epoch') {
            lastEpoch = e;
            if (o.json) json({ runId: p.runId, ...e });
            else {
              clearStatus();
              io.out(
                `epoch ${e.epoch}/${e.epochs}  loss ${fmtLoss(e.loss)}  val ${fmtLoss(e.valLoss)}  ${fmtNum(e.samplesPerSec)} samples/s  ${fmtDuration(e.elapsedSec)} elapsed  ETA ${fmtDuration(e.etaSec)}`,
              );
            }
          } else if (e.type === 'step') {
            if (o.json) json({ runId: p.runId, ...e });
            else if (e.fallback) {
              clearStatus();
              io.err(
                `Note: this run trains ${e.step === 'tfjs' ? "with tfjs's own (much slower) step" : 'kernel by kernel instead of as one TensorFlow graph (slower)'}: ${e.reason ?? 'no reason given'}.`,
              );
            }
          } else if (e.type === 'stopped' && e.reason === 'early-stopping' && !o.json) {
            clearStatus();
            io.out(e.message);
          }
        } else if (name === 'runs:status') {
          const p = payload as RunStatusPayload;
          if (runId && p.runId !== runId) return;
          if (p.status === 'completed' || p.status === 'stopped' || p.status === 'failed') resolve(p);
        }
      };
    });

    onSigint = () => {
      if (stopping) {
        io.err('Stopping now; the last checkpoint is kept.');
        process.exit(130);
      }
      stopping = true;
      clearStatus();
      if (!o.json) io.err('Stopping after the current batch (Ctrl-C again to quit at once)…');
      if (runId) void host.dispatch('runs:stop', { runId });
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);

    if (start) {
      if (!o.json) io.out(`Training on ${title} in ${ws} …`);
      ({ runId } = await call<{ runId: string }>(host, 'runs:start', start));
    } else {
      await call(host, 'runs:resume', { runId });
      if (!o.json) io.out(`Resuming ${runId} …`);
    }
    if (o.json) json({ type: 'start', runId, resumed: !!o.resume, workspace: ws });
    else io.out(`Run ${runId}`);
    announced = true;
    replayEarly();
    if (stopping) void host.dispatch('runs:stop', { runId }); // Ctrl-C came before the run had an id

    const end = await ended;
    clearStatus();
    const list = await call<RunSummary[]>(host, 'runs:list', {});
    const run = list.find((r) => r.runId === runId);
    const loss = run?.history.loss.at(-1) ?? null;
    const valLoss = run?.history.valLoss.at(-1) ?? null;
    const resumeCmd = `ae-studio train --workspace ${ws} --resume ${runId}`;
    const canResume = end.status !== 'completed' && end.epochsDone > 0;
    // an inspection run is calibrated once trained: normalisation, threshold, measured AUCs (model/inspection.json)
    let inspection: import('../engine/inspect/calibration').InspectionFile | undefined;
    if (end.status === 'completed' && o.preset === 'inspection') {
      // the trainer calibrates runs on an inspection set itself; any other dataset is calibrated here
      const { loadInspection } = await import('../engine/inspect/calibration');
      inspection = loadInspection(path.join(ws, 'runs', runId, 'model'), runId);
      if (!inspection) {
        const { calibrateRun } = await import('./inspect');
        inspection = await calibrateRun(ws, runId);
      }
    }
    if (o.json) {
      json({
        type: 'end',
        runId,
        status: end.status,
        message: end.message ?? null,
        epochsDone: end.epochsDone,
        loss,
        valLoss,
        samplesPerSec: lastEpoch?.samplesPerSec ?? null,
        elapsedSec: (Date.now() - started) / 1000,
        runDir: path.join(ws, 'runs', runId),
        ...(run?.metrics ? { metrics: endMetricsBrief(run.metrics) } : {}),
        ...(inspection ? { inspection: { threshold: inspection.threshold, settings: inspection.settings, measured: inspection.measured } } : {}),
        ...(end.status !== 'completed' ? { resume: resumeCmd } : {}),
      });
    } else if (end.status === 'completed') {
      io.out(`Done: ${runId} trained ${end.epochsDone} epoch${end.epochsDone === 1 ? '' : 's'}, loss ${fmtLoss(loss)}, validation loss ${fmtLoss(valLoss)}.${end.message ? ` ${end.message}` : ''}`);
      if (run?.metrics) for (const line of endMetricsTable(run.metrics)) io.out(line);
      if (inspection) {
        const { describeInspection } = await import('./inspect');
        for (const line of describeInspection(inspection)) io.out(line);
        io.out(`Inspect pictures with: ae-studio inspect --workspace ${ws} --run ${runId} PICTURES… --maps maps/`);
      }
      io.out(`The model is in ${path.join(ws, 'runs', runId, 'model')}; export it with: ae-studio export --workspace ${ws} --run ${runId} --format onnx --out model.onnx`);
    } else if (end.status === 'stopped') {
      io.out(
        `Stopped: ${runId} after epoch ${end.epochsDone}.${canResume ? ` The checkpoint of epoch ${end.epochsDone} is kept.` : ' No epoch had finished, so resuming starts it from the beginning.'}`,
      );
      io.out(`Continue with: ${resumeCmd}`);
    } else {
      io.err(`The run ${runId} failed: ${end.message ?? 'no reason given'}`);
      if (canResume) io.err(`Continue from epoch ${end.epochsDone} with: ${resumeCmd}`);
    }
    return end.status === 'completed' ? 0 : end.status === 'stopped' && stopping ? 130 : end.status === 'stopped' ? 0 : 1;
  } finally {
    if (onSigint) {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    await host.dispose();
  }
}

const SPLITS = [
  ['train', 'training'],
  ['val', 'validation'],
  ['test', 'test'],
] as const;

/** The end-of-run measures per split without the per-label lists (`ae-studio runs --json` has those). */
export function endMetricsBrief(m: EndMetrics): Record<string, { count: number; loss: number; mse: number; psnr: number; ssim: number } | null> {
  return Object.fromEntries(SPLITS.map(([k]) => [k, m[k] ? { count: m[k].count, loss: m[k].loss, mse: m[k].mse, psnr: m[k].psnr, ssim: m[k].ssim } : null]));
}

/** The end-of-run measures as a small table: training, validation and (when the run kept one) test images side by side. */
export function endMetricsTable(m: EndMetrics): string[] {
  const rows = SPLITS.flatMap(([k, title]) => (m[k] ? [[title, m[k]] as const] : []));
  return [
    `  ${'measured on'.padEnd(12)}${'images'.padStart(8)}${'loss'.padStart(10)}${'MSE'.padStart(10)}${'PSNR'.padStart(9)}${'SSIM'.padStart(7)}`,
    ...rows.map(
      ([title, s]) =>
        `  ${title.padEnd(12)}${fmtNum(s.count).padStart(8)}${fmtLoss(s.loss).padStart(10)}${fmtLoss(s.mse).padStart(10)}${`${s.psnr.toFixed(2)} dB`.padStart(9)}${s.ssim.toFixed(3).padStart(7)}`,
    ),
  ];
}

/** `ae-studio runs`: every run of the workspace, newest first, with status, config and final metrics. */
export async function runsCommand(o: { workspace: string; json: boolean; trainerEntry: string }, out: (s: string) => void): Promise<number> {
  if (!fs.existsSync(path.join(o.workspace, 'runs'))) {
    out(o.json ? '[]' : `No runs in ${o.workspace}.`);
    return 0;
  }
  // The trainer is never started: listing reads the run folders only.
  const { host } = makeHost(o.workspace, o.trainerEntry, false, () => undefined);
  try {
    const list = await call<RunSummary[]>(host, 'runs:list', {});
    const names = new Map(listDatasets(o.workspace).flatMap((d) => ('error' in d ? [] : [[d.id, d.name] as const])));
    const rows = list.map((r) => {
      const dataset = 'builtin' in r.dataset ? 'MNIST (built in)' : (names.get(r.dataset.id) ?? r.dataset.id);
      const loss = r.history.loss.at(-1) ?? null;
      const valLoss = r.history.valLoss.at(-1) ?? null;
      return { ...r, datasetName: dataset, final: { epochsDone: r.epochsDone, loss, valLoss } };
    });
    if (o.json) {
      out(JSON.stringify(rows));
      return 0;
    }
    if (!rows.length) {
      out(`No runs in ${o.workspace}.`);
      return 0;
    }
    const table = [
      ['RUN', 'STATUS', 'MODEL', 'DATASET', 'EPOCHS', 'LOSS', 'VAL LOSS', 'STARTED'],
      ...rows.map((r) => {
        const c = r.config;
        const model = c ? `${c.kind}, ${c.latentDim}-d code` : '–';
        return [
          r.runId,
          r.status,
          model,
          r.datasetName,
          `${r.epochsDone}/${c?.epochs ?? '?'}`,
          fmtLoss(r.final.loss),
          fmtLoss(r.final.valLoss),
          r.startedAt ? new Date(r.startedAt).toISOString().slice(0, 16).replace('T', ' ') : '–',
        ];
      }),
    ];
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    for (const row of table)
      out(
        row
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      );
    for (const r of rows) if (r.message && (r.status === 'failed' || r.status === 'damaged' || r.status === 'stopped')) out(`  ${r.runId}: ${r.message}`);
    return 0;
  } finally {
    await host.dispose();
  }
}
