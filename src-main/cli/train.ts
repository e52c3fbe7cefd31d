// `ae-studio train` and `ae-studio runs`: training from a terminal through the same host and trainer
// process as the window (runs land in <workspace>/runs/ and show up in the studio).
//   ae-studio train --workspace DIR --dataset NAME --config run.json [--count N] [--json]
//   ae-studio train --workspace DIR --dataset NAME --preset inspection [--config overrides.json] [--json]
//   ae-studio train --workspace DIR --resume RUN_ID [--json]
//   ae-studio runs --workspace DIR [--json]
// On a terminal `train` draws a progress bar (loss, samples/s, ETA); with --json it prints one JSON
// object per line and the last one (`"type":"end"`) holds the run id, its final losses and its measures per split.
// Ctrl-C stops after the current batch, keeps the last checkpoint and prints how to resume.
// `trainCommand` only orchestrates: plan (planTrain), start or resume through the host, follow the
// run (followRun, printing with TrainProgress from train-output.ts), stop on Ctrl-C (stopOnSignal), report the end.
import fs from 'node:fs';
import path from 'node:path';
import { BUILTIN_NAMES } from '../datasets/builtins';
import { listDatasets } from '../datasets/store';
import { validateConfig, type RunEventPayload, type RunStatusPayload, type RunSummary } from '../contract';
import { createHost, type Host } from '../host';
import { TrainerSupervisor, forkSpawner } from '../trainer/supervisor';
import { UsageError } from './errors';
import type { InspectionFile } from '../engine/inspect/calibration';
import { RUN_PRESETS, inspectionPreset } from '../contract/inspection';
import { MIN_CROP } from '../contract/model-validate';
import { TrainProgress, fmtLoss, reportEnd, type TrainIO } from './train-output';

export { endMetricsBrief, endMetricsTable, fmtDuration, progressLine, type TrainIO } from './train-output';

export interface TrainOptions {
  workspace: string;
  dataset?: string;
  config?: string;
  count?: string;
  /** Train on random crops of N px of the dataset's pictures (the model's input becomes N×N); 0 = whole pictures. */
  crop?: string;
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

export type RunDataset = { builtin: 'mnist'; count: number } | { id: string; count?: number };

/** Finds `name` among the built-in MNIST and the workspace's datasets (by id or by name), or says which there are. */
export function resolveRunDataset(
  ws: string,
  name: string,
): { dataset: RunDataset; count: number; shape: [number, number, number]; title: string } {
  if (name.toLowerCase() === BUILTIN_RUN_DATASET)
    return {
      dataset: { builtin: 'mnist', count: 10_000 },
      count: 10_000,
      shape: [28, 28, 1],
      title: 'MNIST (built in)',
    };
  const stored = listDatasets(ws).filter((d): d is Extract<typeof d, { name: string }> => !('error' in d));
  const hit =
    stored.find((d) => d.id === name) ??
    stored.filter((d) => d.name.toLowerCase() === name.toLowerCase()).sort((a, b) => b.createdAt - a.createdAt)[0];
  if (hit) return { dataset: { id: hit.id }, count: hit.count, shape: hit.shape, title: `${hit.name} (${hit.id})` };
  const there = [`${BUILTIN_RUN_DATASET} (built in)`, ...stored.map((d) => `${d.id} (${d.name}, ${d.count} images)`)];
  const addable = (BUILTIN_NAMES as readonly string[]).includes(name)
    ? ` Add it first: ae-studio builtin ${name} --workspace ${ws}`
    : '';
  throw new UsageError(`There is no dataset '${name}' in ${ws}. Datasets there: ${there.join(', ')}.${addable}`, false);
}

/** Reads the run config file: a Model view config, or `{ "config": …, "dataset": … }` as `runs:start` takes it. */
export function readConfigFile(file: string): { config: Record<string, unknown>; dataset?: unknown } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `The config file ${file} does not exist.`
        : `The config file ${file} cannot be read (${code ?? (e as Error).message}).`,
      false,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`The config file ${file} is not valid JSON: ${(e as Error).message}.`, false);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new UsageError(`The config file ${file} must hold one JSON object (the run's settings).`, false);
  const obj = json as Record<string, unknown>;
  if (obj.config && typeof obj.config === 'object' && !Array.isArray(obj.config))
    return { config: obj.config as Record<string, unknown>, dataset: obj.dataset };
  return { config: obj };
}

/** What `train` does: start a new run (its config checked against its dataset) or resume one. */
export type TrainPlan =
  { resume: string } | { start: { config: Record<string, unknown>; dataset: RunDataset }; title: string };

/** Checks the options and the files they name before anything starts; throws a UsageError saying what is wrong. */
export function planTrain(o: TrainOptions): TrainPlan {
  return o.resume ? planResume(o, o.resume) : planStart(o);
}

function planResume(o: TrainOptions, runId: string): TrainPlan {
  const ws = o.workspace;
  if (o.config || o.dataset)
    throw new UsageError('--resume continues a run with its own config and dataset; leave out --config and --dataset.');
  if (!/^[a-z0-9-]{1,64}$/.test(runId))
    throw new UsageError(`'${runId}' is not a run id (see 'ae-studio runs --workspace ${ws}').`);
  if (!fs.existsSync(path.join(ws, 'runs', runId, 'run.json')))
    throw new UsageError(`There is no run '${runId}' in ${ws} (see 'ae-studio runs --workspace ${ws}').`, false);
  return { resume: runId };
}

function planStart(o: TrainOptions): TrainPlan {
  const ws = o.workspace;
  if (o.preset !== undefined && !(RUN_PRESETS as readonly string[]).includes(o.preset))
    throw new UsageError(`--preset must be one of: ${RUN_PRESETS.join(', ')}.`);
  if (!o.config && !o.preset)
    throw new UsageError(
      '--config run.json is required (the run settings the Model view shows; or --preset inspection, or --resume RUN_ID).',
    );
  const file = o.config
    ? readConfigFile(path.resolve(o.config))
    : { config: {} as Record<string, unknown>, dataset: undefined };
  const fileDataset =
    file.dataset && typeof file.dataset === 'object'
      ? (file.dataset as { id?: string; builtin?: string; count?: unknown })
      : undefined;
  const name = o.dataset ?? fileDataset?.id ?? fileDataset?.builtin;
  if (!name)
    throw new UsageError(
      `--dataset NAME is required (${BUILTIN_RUN_DATASET} or a dataset of the workspace; see 'ae-studio datasets --workspace ${ws}').`,
    );
  const found = resolveRunDataset(ws, name);
  let countOption = o.count;
  const fileCount = (file.dataset as { count?: unknown } | undefined)?.count;
  if (countOption === undefined && typeof fileCount === 'number' && Number.isInteger(fileCount) && fileCount > 0)
    countOption = String(Math.min(fileCount, found.count));
  let count = found.count;
  if (countOption !== undefined) {
    const n = Number(countOption);
    const min = 'builtin' in found.dataset ? 100 : 10;
    if (!Number.isInteger(n) || n < min || n > found.count)
      throw new UsageError(
        `--count must be a whole number from ${min} to ${found.count} (the images in ${found.title}).`,
      );
    count = n;
  }
  const dataset: RunDataset =
    'builtin' in found.dataset
      ? { builtin: 'mnist', count }
      : { id: found.dataset.id, ...(countOption !== undefined ? { count } : {}) };
  const preset: Record<string, unknown> = o.preset === 'inspection' ? { ...inspectionPreset(found.shape) } : {};
  const config: Record<string, unknown> = {
    ...preset,
    ...file.config,
    inputShape: file.config.inputShape ?? preset.inputShape ?? found.shape,
  };
  if (o.crop !== undefined) {
    const n = Number(o.crop);
    const side = Math.min(found.shape[0], found.shape[1]);
    if (!Number.isInteger(n) || n < 0 || (n > 0 && n < MIN_CROP) || n > side)
      throw new UsageError(
        `--crop must be a whole number of pixels from ${MIN_CROP} to ${side} (the side of the pictures in ${found.title}), or 0 for whole pictures.`,
      );
    config.cropSize = n;
    config.inputShape = n > 0 ? [n, n, found.shape[2]] : found.shape;
  }
  const checked = validateConfig(config, { count, shape: found.shape });
  if (!checked.ok) {
    throw new UsageError(
      `The config ${o.config ? `in ${o.config}` : `of --preset ${o.preset}`} cannot train on ${found.title}:\n${checked.errors.map((e) => `  ${e.field}: ${e.message}`).join('\n')}`,
      false,
    );
  }
  return { start: { config, dataset }, title: found.title };
}

function makeHost(
  ws: string,
  trainerEntry: string,
  verbose: boolean,
  err: (s: string) => void,
): { host: Host; trainer: TrainerSupervisor } {
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

/**
 * Follows the host's events for one run: run events go to `onEvent`, and `ended` resolves with the
 * run's final status. Events can arrive before runs:start answers with the run's id: they wait
 * until `announce(runId)` (the run's first line is out) and are then handled in order.
 */
function followRun(
  host: Host,
  onEvent: (p: RunEventPayload) => void,
): { ended: Promise<RunStatusPayload>; announce: (runId: string) => void } {
  let runId = '';
  let announced = false;
  const early: Array<[string, unknown]> = [];
  let resolveEnd: (p: RunStatusPayload) => void = () => undefined;
  const ended = new Promise<RunStatusPayload>((resolve) => (resolveEnd = resolve));
  const handle = (name: string, payload: unknown) => {
    if (name === 'runs:event') {
      const p = payload as RunEventPayload;
      if (runId && p.runId !== runId) return;
      onEvent(p);
    } else if (name === 'runs:status') {
      const p = payload as RunStatusPayload;
      if (runId && p.runId !== runId) return;
      if (p.status === 'completed' || p.status === 'stopped' || p.status === 'failed') resolveEnd(p);
    }
  };
  host.subscribe((name, payload) => {
    if (!announced) early.push([name, payload]);
    else handle(name, payload);
  });
  return {
    ended,
    announce(id) {
      runId = id;
      announced = true;
      for (const [n, p] of early.splice(0)) handle(n, p);
    },
  };
}

/**
 * Ctrl-C (and SIGTERM) stop the run after the current batch; a second Ctrl-C quits at once (the
 * last checkpoint is kept). `stop` is called once the run has an id (`setRun`).
 */
function stopOnSignal(host: Host, io: TrainIO, json: boolean, clearStatus: () => void) {
  let runId = '';
  let stopping = false;
  const onSignal = () => {
    if (stopping) {
      io.err('Stopping now; the last checkpoint is kept.');
      process.exit(130);
    }
    stopping = true;
    clearStatus();
    if (!json) io.err('Stopping after the current batch (Ctrl-C again to quit at once)…');
    if (runId) void host.dispatch('runs:stop', { runId });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    /** Whether the user asked to stop. */
    stopping: () => stopping,
    /** The run now has an id; a Ctrl-C that came before it stops it now. */
    setRun(id: string) {
      runId = id;
      if (stopping) void host.dispatch('runs:stop', { runId });
    },
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** `ae-studio train`: resolves to the exit code (0 completed, 1 failed, 130 stopped with Ctrl-C). */
/** An inspection run is calibrated once trained (model/inspection.json): by the trainer on an inspection set, else here. */
async function calibrated(ws: string, runId: string): Promise<{ file: InspectionFile; lines: string[] } | undefined> {
  const { loadInspection } = await import('../engine/inspect/calibration');
  const { calibrateRun, describeInspection } = await import('./inspect');
  const file = loadInspection(path.join(ws, 'runs', runId, 'model'), runId) ?? (await calibrateRun(ws, runId));
  return file ? { file, lines: describeInspection(file) } : undefined;
}

export async function trainCommand(o: TrainOptions, io: TrainIO): Promise<number> {
  const ws = o.workspace;
  const plan = planTrain(o);
  fs.mkdirSync(ws, { recursive: true });
  const { host } = makeHost(ws, o.trainerEntry, o.verbose, io.err);
  const progress = new TrainProgress(io, o.json, 'start' in plan ? Number(plan.start.config.epochs ?? 0) : 0);
  const startedAt = Date.now();
  let signals: ReturnType<typeof stopOnSignal> | undefined;
  try {
    const follow = followRun(host, (p) => progress.onEvent(p));
    signals = stopOnSignal(host, io, o.json, () => progress.clearStatus());
    let runId: string;
    if ('start' in plan) {
      const crop = Number(plan.start.config.cropSize ?? 0);
      if (!o.json)
        io.out(
          `Training on ${plan.title} in ${ws}${crop ? `, on random ${crop}×${crop} crops of its pictures (fixed crops for validation)` : ''} …`,
        );
      ({ runId } = await call<{ runId: string }>(host, 'runs:start', plan.start));
    } else {
      runId = plan.resume;
      signals.setRun(runId); // a Ctrl-C while the resume is asked for stops it at once
      await call(host, 'runs:resume', { runId });
      if (!o.json) io.out(`Resuming ${runId} …`);
    }
    if (o.json) io.out(JSON.stringify({ type: 'start', runId, resumed: !!o.resume, workspace: ws }));
    else io.out(`Run ${runId}`);
    follow.announce(runId);
    signals.setRun(runId);

    const end = await follow.ended;
    progress.clearStatus();
    const list = await call<RunSummary[]>(host, 'runs:list', {});
    const run = list.find((r) => r.runId === runId);
    const inspection =
      end.status === 'completed' && o.preset === 'inspection' ? await calibrated(ws, runId) : undefined;
    return reportEnd(
      io,
      { workspace: ws, json: o.json, stoppedByUser: signals.stopping(), startedAt, inspection },
      end,
      run,
      progress.lastEpoch,
    );
  } finally {
    signals?.release();
    await host.dispose();
  }
}

/** `ae-studio runs`: every run of the workspace, newest first, with status, config and final metrics. */
export async function runsCommand(
  o: { workspace: string; json: boolean; trainerEntry: string },
  out: (s: string) => void,
): Promise<number> {
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
        const model = c ? `${c.kind}, ${c.latentDim}-d code${c.cropSize ? `, ${c.cropSize}-px crops` : ''}` : '–';
        return [
          r.runId,
          r.status === 'training-elsewhere' ? 'training elsewhere' : r.status,
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
    for (const r of rows)
      if (
        r.message &&
        (r.status === 'failed' || r.status === 'damaged' || r.status === 'stopped' || r.status === 'training-elsewhere')
      )
        out(`  ${r.runId}: ${r.message}`);
    return 0;
  } finally {
    await host.dispose();
  }
}
