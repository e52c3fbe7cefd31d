// One epoch of training: the batches in the epoch's order, each one optimisation step on the step
// chosen for the run, with 'batch' events (at most one per batchEventMs), previews, a turn of the
// event loop every few milliseconds (so a stop request is heard), the stop check and the NaN/Inf
// guard. The epoch's summary ('epoch' event, history, early-stopping counters) is `record`.
import { tf } from '../tf';
import type { ModelConfig } from '../config';
import { applyNoise } from '../noise';
import type { BatchSource } from '../data';
import { objective } from '../objective';
import { fastStepEnabled } from '../fast/step';
import { augmentActive, augmentBatch } from '../augment';
import type { RunResult } from '../train';
import type { RunContext } from './context';
import type { RunImages } from './images';
import type { Preview } from './measure';

/** How often the epoch loop gives the event loop a turn (so a stop request is heard within this plus one batch). */
const YIELD_MS = 10;

/** An epoch trained to its end: the mean training loss and the seconds the training steps took. */
export interface EpochTrained {
  loss: number;
  trainSeconds: number;
}

type BatchStep = (idx: Int32Array, step: number, cE: ModelConfig) => tf.Scalar;

export class EpochLoop {
  private readonly step: BatchStep;
  private readonly startedAt: number;
  private lastBatchEvent = 0;
  private lastYield = 0;

  constructor(
    private readonly run: RunContext,
    private readonly images: RunImages,
    private readonly preview: Preview,
    private readonly opts: { signal?: AbortSignal; batchEventMs: number },
  ) {
    this.step = makeBatchStep(run, images.train);
    run.fast?.expectBatchSizes(images.batchSizes());
    this.startedAt = Date.now();
  }

  /** Trains `epoch`; a stop request or a diverged loss ends the run here (the result says how). */
  async train(epoch: number): Promise<EpochTrained | { end: RunResult }> {
    const { run, images } = this;
    const { c, state } = run;
    const { batches, nTrain } = images;
    const epochStart = Date.now();
    const order = images.order(epoch);
    run.beginEpoch(epoch);
    let lossSum = 0;
    let seen = 0;
    for (let b = 0; b < batches; b++) {
      if (this.opts.signal?.aborted) {
        run.emit({
          type: 'stopped',
          reason: 'user',
          message: `Stopped during epoch ${epoch}; the last checkpoint is from epoch ${state.epochsDone}.`,
        });
        return { end: run.result('stopped', 'Stopped by the user.') };
      }
      const idx = order.subarray(b * c.batchSize, Math.min(nTrain, (b + 1) * c.batchSize));
      const cost = this.step(idx, state.step++, run.cE);
      const loss = (await cost.data())[0];
      cost.dispose();
      if (!Number.isFinite(loss)) {
        const message =
          `The loss became ${Number.isNaN(loss) ? 'NaN' : 'infinite'} at epoch ${epoch}, batch ${b + 1}: training diverged. ` +
          `Try a lower learning rate (now ${c.learningRate}), a smaller β or a sigmoid output. The last good checkpoint (epoch ${state.epochsDone}) is kept.`;
        run.emit({ type: 'stopped', reason: 'nan', message });
        return { end: run.result('failed', message) };
      }
      lossSum += loss * idx.length;
      seen += idx.length;
      const now = Date.now();
      const rate = seen / Math.max(1e-3, (now - epochStart) / 1000);
      const remaining = (batches - b - 1) * c.batchSize + (c.epochs - epoch) * nTrain;
      if (now - this.lastBatchEvent >= this.opts.batchEventMs || b === batches - 1) {
        this.lastBatchEvent = now;
        run.emit({ type: 'batch', epoch, batch: b + 1, batches, loss, samplesPerSec: rate, etaSec: remaining / rate });
      }
      if ((b + 1) % c.previewEvery === 0) this.preview.show(epoch, b + 1);
      // Let the trainer's event loop breathe (stop requests, host messages) every few milliseconds,
      // not after every batch: a turn of the loop is a few percent of a small model's step.
      if (now - this.lastYield >= YIELD_MS) {
        await new Promise((r) => setImmediate(r));
        this.lastYield = Date.now();
      }
    }
    return { loss: lossSum / seen, trainSeconds: (Date.now() - epochStart) / 1000 };
  }

  /** Adds the epoch to the history and the early-stopping counters, and sends the 'epoch' event. */
  record(epoch: number, trained: EpochTrained, valLoss: number | null): void {
    const { run, images } = this;
    const { c, state } = run;
    state.history.loss.push(trained.loss);
    state.history.valLoss.push(valLoss);
    state.epochsDone = epoch;
    trackBest(state, valLoss ?? trained.loss);
    const rate = images.nTrain / Math.max(1e-3, trained.trainSeconds);
    const etaSec = ((c.epochs - epoch) * images.nTrain) / rate;
    run.emit({
      type: 'epoch',
      epoch,
      epochs: c.epochs,
      loss: trained.loss,
      valLoss,
      samplesPerSec: rate,
      etaSec,
      elapsedSec: (Date.now() - this.startedAt) / 1000,
    });
  }
}

/** The best monitored loss so far and the epochs since it (early stopping): validation loss, or training loss without validation. */
export function trackBest(state: { bestValLoss: number | null; sinceBest: number }, monitored: number): void {
  if (state.bestValLoss === null || monitored < state.bestValLoss - 1e-7) {
    state.bestValLoss = monitored;
    state.sinceBest = 0;
  } else state.sinceBest++;
}

/** Whether early stopping ends the run after `epoch` (patience 0 = off; the last epoch ends it anyway). */
export function stopsEarly(
  state: { sinceBest: number },
  c: Pick<ModelConfig, 'earlyStoppingPatience' | 'epochs'>,
  epoch: number,
): boolean {
  return c.earlyStoppingPatience > 0 && state.sinceBest >= c.earlyStoppingPatience && epoch < c.epochs;
}

/**
 * One optimisation step on a batch (its images filled from the dataset, augmented and corrupted by noise as the
 * config says) on the step chosen for the run, returning the loss (the caller disposes it). The first
 * step reports which form of the step runs and why not a faster one; a fallback later is reported too.
 */
function makeBatchStep(run: RunContext, images: BatchSource): BatchStep {
  const { c, ae, vars, fast, optimizer } = run;
  let reported = false;
  if (fast) fast.onFallback = (reason) => run.reportStep({ step: 'kernels', reason, fallback: true });
  const batch = (idx: Int32Array, step: number): { input: tf.Tensor; target: tf.Tensor } => {
    const gathered = images.gather(idx);
    const target = augmentActive(c.augment) ? augmentBatch(gathered, c.augment, c.seed * 7_919 + step) : gathered;
    return {
      input:
        c.noise.type === 'none' || c.noise.level === 0
          ? target
          : applyNoise(target, c.noise, c.seed * 1_000_003 + step),
      target,
    };
  };
  return (idx, step, cE) => {
    let cost: tf.Scalar;
    if (fast) {
      const { input, target } = tf.tidy(() => batch(idx, step));
      cost = fast.step(input, target, c.seed + 31 * step);
      tf.dispose([input, target]);
    } else {
      cost = tf.tidy(() => {
        const { input, target } = batch(idx, step);
        return optimizer.minimize(() => objective(ae, cE, input, target, c.seed + 31 * step), true, vars) as tf.Scalar;
      });
    }
    if (!reported) {
      reported = true;
      if (fast) {
        const form = fast.form ?? 'kernels';
        run.reportStep({
          step: form,
          reason: form === 'graph' ? null : (fast.graphRefusal ?? 'the graph step is turned off (AE_GRAPH_STEP=0)'),
          fallback: form !== 'graph' && fast.tryGraph,
        });
      } else run.reportStep({ step: 'tfjs', reason: run.whyNotFast, fallback: fastStepEnabled() });
    }
    return cost;
  };
}
