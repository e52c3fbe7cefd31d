// The training run: a hand-written loop (the step chosen once per run — engine/fast/ or tfjs's
// optimizer.minimize — not model.fit), fresh input noise per batch with a clean target, streamed
// events, an atomic checkpoint after every epoch, resume, early stopping, and a NaN/Inf guard.
// trainRun only orchestrates; each concern is its own unit in run/:
//   context.ts  RunContext: the checked config, the model (built or resumed), the training step,
//               the optimizer, the run's state and events; opened and freed once
//   images.ts   RunImages: the split and the batch sources (no float copy of a split is made)
//   epoch.ts    EpochLoop: one epoch of batches (events, previews, stop, NaN guard) and its record;
//               early stopping (trackBest, stopsEarly)
//   measure.ts  validateSplit, endOfRunMetrics / measureSplit, Preview
//   save.ts     the checkpoint and the final model, each one atomic folder swap
// The step itself runs on fast/step.ts — a hand-written forward/backward pass on TensorFlow's own
// kernels with one optimizer kernel per variable — for every model models.ts builds; anything it
// does not know trains on the plain tfjs path (optimizer.minimize), as does AE_FAST_STEP=0 (used
// by the comparisons in the tests and the bench).
import type { EndMetrics, RunHistory, RunResult, SplitMetrics, TrainingStepInfo } from '../contract/runs';
import type { TrainingData } from './data';
import { RunContext } from './run/context';
import { RunImages } from './run/images';
import { EpochLoop, stopsEarly } from './run/epoch';
import { Preview, endOfRunMetrics, validateSplit } from './run/measure';
import { saveFinalModel } from './run/save';

export { klBetaAt, makeOptimizer, objective, reconstructionLoss } from './objective';
export { measureSplit } from './run/measure';
export { trackBest, stopsEarly } from './run/epoch';

export type RunEvent =
  | {
      type: 'batch';
      epoch: number;
      batch: number;
      batches: number;
      loss: number;
      samplesPerSec: number;
      etaSec: number;
    }
  | {
      type: 'epoch';
      epoch: number;
      epochs: number;
      loss: number;
      valLoss: number | null;
      samplesPerSec: number;
      etaSec: number;
      elapsedSec: number;
    }
  | {
      type: 'preview';
      epoch: number;
      batch: number;
      width: number;
      height: number;
      channels: number;
      originals: Uint8Array[];
      noisy: Uint8Array[];
      reconstructions: Uint8Array[];
    }
  | { type: 'checkpoint'; epoch: number; path: string }
  /** At the end of a completed run: the same measures on the training, validation and (if any) test images. */
  | { type: 'metrics'; metrics: EndMetrics }
  | { type: 'stopped'; reason: 'user' | 'early-stopping' | 'nan' | 'done'; message: string }
  /** Which training step runs (after the first batch, and again if it changes): see StepInfo. */
  | ({ type: 'step' } & StepInfo);

/**
 * The training step a run uses, fastest first: `graph` (the fast step as one TensorFlow graph),
 * `kernels` (the fast step kernel by kernel), `tfjs` (tfjs's own optimizer over its tape). A run
 * that does not get the fastest form says why (`reason`); `fallback` is true when that was not asked
 * for (AE_GRAPH_STEP=0 / AE_FAST_STEP=0 ask for it, for comparisons). The shapes a run reports are
 * the contract's (src-main/contract/runs.ts), written once there.
 */
export type StepInfo = TrainingStepInfo;
export type TrainingStep = TrainingStepInfo['step'];
export type { EndMetrics, RunHistory, RunResult, SplitMetrics };

export interface TrainOptions {
  config: unknown;
  /** The images: in memory, or read from their file batch by batch (data.ts TrainingData). */
  dataset: TrainingData;
  /** Folder of this run: config.json, checkpoint/, model/. */
  runDir: string;
  /** Continue from runDir/checkpoint. */
  resume?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  /** Minimum time between two 'batch' events. */
  batchEventMs?: number;
}

/**
 * Trains one run; never throws for training problems (returns status 'failed' with a message).
 * Setup, then for each epoch: train its batches, validate, record, preview, checkpoint, early stop;
 * then the end-of-run metrics and the final model.
 */
export async function trainRun(opts: TrainOptions): Promise<RunResult> {
  const run = await RunContext.open(opts);
  if (!(run instanceof RunContext)) return run;
  const images = RunImages.plan(run.c, opts.dataset);
  if (typeof images === 'string') {
    run.dispose();
    return run.result('failed', images);
  }
  const preview = new Preview(run, images);
  try {
    const loop = new EpochLoop(run, images, preview, { signal: opts.signal, batchEventMs: opts.batchEventMs ?? 200 });
    const c = run.c;
    for (let epoch = run.state.epochsDone + 1; epoch <= c.epochs; epoch++) {
      const trained = await loop.train(epoch);
      if ('end' in trained) return trained.end;
      const valLoss = await validateSplit(run, images.val, images.valChunk);
      loop.record(epoch, trained, valLoss);
      preview.show(epoch, images.batches);
      await run.checkpoint(epoch);
      if (stopsEarly(run.state, c, epoch)) {
        return await finishRun(
          run,
          images,
          opts.runDir,
          'early-stopping',
          `No better validation loss for ${c.earlyStoppingPatience} epochs: stopped early after epoch ${epoch}.`,
        );
      }
    }
    return await finishRun(run, images, opts.runDir, 'done', `Finished ${c.epochs} epochs.`);
  } finally {
    preview.dispose();
    run.dispose();
  }
}

/** The end of a completed run: metrics on each split, the final model (model/), then the 'metrics' and 'stopped' events. */
async function finishRun(
  run: RunContext,
  images: RunImages,
  runDir: string,
  reason: 'early-stopping' | 'done',
  message: string,
): Promise<RunResult> {
  run.syncModel();
  const metrics = await endOfRunMetrics(run, images);
  await saveFinalModel(run.ae, run.c, images.train, runDir, { step: run.stepInfo, metrics });
  run.emit({ type: 'metrics', metrics });
  run.emit({ type: 'stopped', reason, message });
  // A run that ran all its epochs has no message of its own (the event says it).
  return run.result('completed', reason === 'done' ? undefined : message, metrics);
}
