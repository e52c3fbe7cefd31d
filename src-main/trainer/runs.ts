// Runs inside the trainer process: loads the dataset, calls the engine's trainRun, and forwards
// its events to the host as plain data (previews as base64), ending with 'run-end'.
import path from 'node:path';
import { loadMnist, trainRun, type Dataset, type RunEvent, type RunResult, type TrainingData } from '../engine';
import { CropView } from '../engine/crops';
import type { MethodParams, SendTrainerEvent } from './protocol';
import type { RunEventPayload } from '../contract';
import { loadDataset, openDataset, STREAM_ABOVE_BYTES } from '../datasets/store';
import { calibrateRun, isInspectionTraining } from './inspect';
import { toBase64 as b64 } from '../datasets/base64';

type Send = SendTrainerEvent;

const active = new Map<string, AbortController>();
let mnistCache: Dataset | undefined;

/** A run's images; `labelNames[l]` is the name of label l (the digits for built-in MNIST). */
export function loadRunDataset(
  spec: MethodParams<'runStart'>['dataset'],
  workspaceDir: string,
): Dataset & { labelNames: string[] } {
  let d: Dataset;
  let labelNames: string[];
  if ('builtin' in spec) {
    d = mnistCache ??= loadMnist(10_000, { seed: 1 });
    labelNames = Array.from({ length: 10 }, (_, i) => String(i));
  } else {
    const stored = loadDataset(workspaceDir, spec.id);
    d = stored;
    labelNames = stored.manifest.labelNames;
  }
  const n = Math.min(spec.count ?? d.count, d.count);
  const size = d.shape[0] * d.shape[1] * d.shape[2];
  return {
    images: d.images.subarray(0, n * size),
    labels: d.labels?.subarray(0, n),
    count: n,
    shape: d.shape,
    labelNames,
  };
}

/**
 * A run's images for training: as `loadRunDataset`, except that a big stored dataset stays in its
 * file and is read batch by batch (datasets/store.ts openDataset). `close()` when the run ends.
 */
export function openRunDataset(
  spec: MethodParams<'runStart'>['dataset'],
  workspaceDir: string,
  streamAbove = STREAM_ABOVE_BYTES,
): TrainingData & { close(): void } {
  if ('builtin' in spec) return { ...loadRunDataset(spec, workspaceDir), close: () => undefined };
  const d = openDataset(workspaceDir, spec.id, streamAbove);
  const n = Math.min(spec.count ?? d.count, d.count);
  // Training reads rows by index below `count` only (the split and every batch), so the first n images need no copy or view.
  return { ...d, labels: d.labels?.subarray(0, n), count: n };
}

/**
 * What the jobs after training read of a crop run's dataset (config `cropSize`): its pictures seen as
 * the fixed crops validation used (engine/crops.ts), so the Gallery, the evaluation and the latents
 * show and measure crops of the model's size; any other run's dataset as it is.
 */
export function atModelSize(
  ds: TrainingData & { close(): void },
  c: { cropSize?: number; seed: number },
): TrainingData & { close(): void } {
  if (!c.cropSize) return ds;
  const view = new CropView(ds, c.cropSize, c.seed);
  return Object.assign(view, { close: () => ds.close() });
}

/** The engine's event as the contract carries it (previews as base64); typed against the contract, so the two cannot drift apart. */
function toWire(e: RunEvent): RunEventPayload['event'] {
  if (e.type !== 'preview') return e;
  return {
    ...e,
    originals: e.originals.map(b64),
    noisy: e.noisy.map(b64),
    reconstructions: e.reconstructions.map(b64),
  };
}

export function startRun(p: MethodParams<'runStart'>, send: Send): void {
  if (active.has(p.runId)) throw new Error(`Run ${p.runId} is already running.`);
  const ctrl = new AbortController();
  active.set(p.runId, ctrl);
  void (async () => {
    let result: RunResult;
    // What the last written checkpoint holds, so a failure (e.g. a full disk while saving) still
    // reports the epochs that are safely on disk.
    const epochs: Array<{ loss: number; valLoss: number | null }> = [];
    let checkpointed = 0;
    let dataset: ReturnType<typeof openRunDataset> | undefined;
    try {
      dataset = openRunDataset(p.dataset, p.workspaceDir);
      result = await trainRun({
        config: p.config,
        dataset,
        runDir: p.runDir,
        resume: p.resume,
        signal: ctrl.signal,
        onEvent: (e) => {
          if (e.type === 'epoch') epochs[e.epoch - 1] = { loss: e.loss, valLoss: e.valLoss };
          if (e.type === 'checkpoint') checkpointed = e.epoch;
          send('run-event', { runId: p.runId, event: toWire(e) });
        },
      });
      // a run on an inspection set is calibrated once trained (model/inspection.json); a failure is said, the run stays completed
      if (
        result.status === 'completed' &&
        isInspectionTraining(p.workspaceDir, p.dataset) &&
        path.resolve(p.runDir) === path.resolve(p.workspaceDir, 'runs', p.runId)
      ) {
        let note: string;
        try {
          const f = await calibrateRun(p.workspaceDir, p.runId, undefined, 99, p.dataset);
          note = `Calibrated for inspection: threshold ${f.threshold.value.toFixed(4)} (${f.threshold.method === 'f1' ? 'F1-adaptive on the test set' : '99th percentile of the good validation scores'})${f.measured ? `, image ROC AUC ${f.measured.imageAuroc.toFixed(3)}` : ''}.`;
        } catch (err) {
          note = `Not calibrated for inspection: ${(err as Error).message}`;
        }
        result = { ...result, message: [result.message, note].filter(Boolean).join(' ') };
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const diskFull = e.code === 'ENOSPC' || e.code === 'EDQUOT';
      const kept = checkpointed
        ? ` The last checkpoint (epoch ${checkpointed}) is intact; resume continues from it.`
        : '';
      const message = diskFull
        ? `The run stopped: the disk is full (${e.message}).${kept || ' Nothing was saved.'} Free some space${kept ? ' and resume' : ''}.`
        : `The run failed: ${e.message}.${kept}`;
      // epochs only when this session wrote them all (a resumed run's earlier history stays in the host)
      const complete = checkpointed > 0 && epochs.slice(0, checkpointed).every(Boolean);
      const history = complete
        ? {
            loss: epochs.slice(0, checkpointed).map((x) => x.loss),
            valLoss: epochs.slice(0, checkpointed).map((x) => x.valLoss),
          }
        : { loss: [], valLoss: [] };
      result = { status: 'failed', epochsDone: checkpointed, bestValLoss: null, history, message };
    } finally {
      active.delete(p.runId);
      dataset?.close();
    }
    send('run-end', { runId: p.runId, result });
  })();
}

export function stopRun(runId: string): boolean {
  const ctrl = active.get(runId);
  ctrl?.abort();
  return !!ctrl;
}
