// The training run: a hand-written loop (optimizer.minimize over the model's trainable
// variables, not model.fit, so the step can be replaced by a faster one — engine/fast/), fresh input noise per batch with a
// clean target, streamed events, an atomic checkpoint after every epoch, resume, early stopping,
// and a NaN/Inf guard. The dataset stays the typed array it was loaded as; every batch (training,
// validation, end-of-run metrics, latent statistics) is filled from it (data.ts BatchSource), so no
// float copy of a whole split is ever made.
// The step itself runs on fast/step.ts — a hand-written forward/backward pass on
// TensorFlow's own kernels with one optimizer kernel per variable — for every model models.ts
// builds; anything it does not know trains on the plain tfjs path (optimizer.minimize), as does
// AE_FAST_STEP=0 (used by the comparisons in the tests and the bench).
import fs from 'node:fs';
import path from 'node:path';
import { tf } from './tf';
import { isVae, validateConfig, type ModelConfig } from './config';
import { buildAutoencoder, trainableVariables, type Autoencoder } from './models';
import { applyNoise } from './noise';
import { BatchSource, balancedOrder, evalBatchSize, labelCounts, splitIndices, toTensor, withoutLabels, type Dataset } from './data';
import { imageMetrics } from './metrics';
import { permutation } from './rng';
import { loadAutoencoder, loadOptimizer, readableDir, saveAutoencoder, saveOptimizer, writeDirAtomic, writeJsonAtomic } from './persist';
import { fitLatentStats } from './latent-stats';
import { FastStep, fastStepEnabled } from './fast/step';
import { CheckpointState } from '../contract/runs';
import { augmentActive, augmentBatch } from './augment';

export type RunEvent =
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; samplesPerSec: number; etaSec: number }
  | { type: 'epoch'; epoch: number; epochs: number; loss: number; valLoss: number | null; samplesPerSec: number; etaSec: number; elapsedSec: number }
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
 * for (AE_GRAPH_STEP=0 / AE_FAST_STEP=0 ask for it, for comparisons).
 */
export type TrainingStep = 'graph' | 'kernels' | 'tfjs';
export interface StepInfo {
  step: TrainingStep;
  reason: string | null;
  fallback: boolean;
}

export interface RunHistory {
  loss: number[];
  valLoss: Array<number | null>;
}

/** Reconstruction quality of one split, measured once on the finished model. */
export interface SplitMetrics {
  count: number;
  /** The training objective (with the final β). */
  loss: number;
  mse: number;
  /** Mean per-image PSNR (dB, capped at 100 for perfect images). */
  psnr: number;
  ssim: number;
  /** Per label: images and mean MSE (labelled datasets only). */
  perLabel?: Array<{ label: number; count: number; mse: number }>;
}

export interface EndMetrics {
  /** The training images (the first 2,000 of them on big datasets, to keep the end of a run short). */
  train: SplitMetrics;
  val: SplitMetrics | null;
  /** The test split (never trained on, never used for early stopping), when the config asks for one. */
  test: SplitMetrics | null;
  /** Training images per label (after `excludeLabels`), for imbalanced datasets. */
  trainLabelCounts?: Array<{ label: number; count: number }>;
}

export interface RunResult {
  status: 'completed' | 'stopped' | 'failed';
  epochsDone: number;
  bestValLoss: number | null;
  history: RunHistory;
  message?: string;
  /** The training step the run used last (see StepInfo). */
  step?: StepInfo;
  metrics?: EndMetrics;
}

export interface TrainOptions {
  config: unknown;
  dataset: Dataset;
  /** Folder of this run: config.json, checkpoint/, model/. */
  runDir: string;
  /** Continue from runDir/checkpoint. */
  resume?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  /** Minimum time between two 'batch' events. */
  batchEventMs?: number;
}

interface RunState {
  epochsDone: number;
  history: RunHistory;
  bestValLoss: number | null;
  sinceBest: number;
  step: number;
}

export function makeOptimizer(c: ModelConfig): tf.Optimizer {
  switch (c.optimizer) {
    case 'adam':
      return tf.train.adam(c.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(c.learningRate, 0.9, c.momentum);
    case 'sgd':
      return c.momentum > 0 ? tf.train.momentum(c.learningRate, c.momentum) : tf.train.sgd(c.learningRate);
  }
}

/**
 * The training objective for one batch (a scalar), per pixel:
 * reconstruction (MSE or BCE) [+ β·KL/D for VAEs] [+ l1·mean|z| for sparse AEs].
 */
export function objective(ae: Autoencoder, c: ModelConfig, input: tf.Tensor, target: tf.Tensor, seed: number): tf.Scalar {
  return tf.tidy(() => {
    const enc = ae.encoder.apply(input) as tf.Tensor | tf.Tensor[];
    let z: tf.Tensor;
    let extra: tf.Scalar | undefined;
    if (isVae(c.kind)) {
      const [mu, logVar] = enc as tf.Tensor[];
      const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', seed);
      z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps));
      // KL(q(z|x) || N(0, I)) per image, divided by the pixel count so it lives on the same scale as the per-pixel loss.
      const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar)), -1));
      const pixels = c.inputShape[0] * c.inputShape[1] * c.inputShape[2];
      extra = tf.mul(c.beta / pixels, tf.mean(kl)) as tf.Scalar;
    } else {
      z = enc as tf.Tensor;
      if (c.kind === 'sparse') extra = tf.mul(c.l1, tf.mean(tf.abs(z))) as tf.Scalar;
    }
    const recon = ae.decoder.apply(z) as tf.Tensor;
    const rec = reconstructionLoss(c.loss, recon, target);
    return (extra ? tf.add(rec, extra) : rec) as tf.Scalar;
  });
}

/** A VAE's KL weight in an epoch (1-based): β·(epoch−1)/N over the first N epochs of a KL warm-up, then β. */
export function klBetaAt(c: Pick<ModelConfig, 'beta' | 'klWarmupEpochs'>, epoch: number): number {
  return c.klWarmupEpochs > 0 ? c.beta * Math.min(1, (epoch - 1) / c.klWarmupEpochs) : c.beta;
}

export function reconstructionLoss(kind: 'mse' | 'bce', recon: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    if (kind === 'mse') return tf.mean(tf.squaredDifference(recon, target)) as tf.Scalar;
    const p = tf.clipByValue(recon, 1e-7, 1 - 1e-7);
    return tf.neg(tf.mean(tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p)))))) as tf.Scalar;
  });
}

const toUint8 = (t: tf.Tensor): Uint8Array => new Uint8Array(tf.tidy(() => tf.round(tf.mul(tf.clipByValue(t, 0, 1), 255))).dataSync());

/** How often the epoch loop gives the event loop a turn (so a stop request is heard within this plus one batch). */
const YIELD_MS = 10;

/** Trains one run; never throws for training problems (returns status 'failed' with a message). */
export async function trainRun(opts: TrainOptions): Promise<RunResult> {
  const emptyHistory: RunHistory = { loss: [], valLoss: [] };
  const checked = validateConfig(opts.config, { count: opts.dataset.count, shape: opts.dataset.shape });
  if (!checked.ok) {
    return { status: 'failed', epochsDone: 0, bestValLoss: null, history: emptyHistory, message: checked.errors.map((e) => `${e.field}: ${e.message}`).join('; ') };
  }
  const c = checked.config;
  const emit = opts.onEvent ?? (() => undefined);
  fs.mkdirSync(opts.runDir, { recursive: true });
  const ckptDir = path.join(opts.runDir, 'checkpoint');

  let ae: Autoencoder;
  let state: RunState = { epochsDone: 0, history: { loss: [], valLoss: [] }, bestValLoss: null, sinceBest: 0, step: 0 };
  const resumeFrom = opts.resume ? readableDir(ckptDir) : undefined;
  if (opts.resume && !resumeFrom) {
    return { status: 'failed', epochsDone: 0, bestValLoss: null, history: emptyHistory, message: 'There is no checkpoint to resume from in this run.' };
  }
  if (resumeFrom) {
    ae = await loadAutoencoder(resumeFrom);
    const stored = CheckpointState.safeParse(JSON.parse(fs.readFileSync(path.join(resumeFrom, 'state.json'), 'utf8')));
    if (!stored.success) {
      ae.encoder.dispose();
      ae.decoder.dispose();
      return {
        status: 'failed',
        epochsDone: 0,
        bestValLoss: null,
        history: emptyHistory,
        message: `The checkpoint's state.json is damaged (${stored.error.issues[0]?.path.join('.') || 'the file'}: ${stored.error.issues[0]?.message}); resume cannot continue from it.`,
      };
    }
    state = stored.data;
  } else {
    ae = buildAutoencoder(c);
    writeJsonAtomic(path.join(opts.runDir, 'config.json'), c);
  }
  const vars = trainableVariables(ae);
  const compiled = fastStepEnabled() ? FastStep.tryCompile(ae, c, vars) : { reason: 'the fast step is turned off (AE_FAST_STEP=0)' };
  const fast = 'step' in compiled ? compiled.step : undefined;
  /** The step the run reported last (the run's result and model/report.json keep it). */
  let stepInfo: StepInfo | undefined;
  const reportStep = (info: StepInfo) => {
    stepInfo = info;
    emit({ type: 'step', ...info });
  };
  // The fast step's optimizer keeps tfjs's checkpoint format, so persist.ts serves both.
  const optimizer = fast ? (fast.optimizer as unknown as tf.Optimizer) : makeOptimizer(c);
  if (resumeFrom) await loadOptimizer(optimizer, resumeFrom);
  /** The fast step updates its own copy of the parameters; bring the model up to date before anyone looks at it. */
  const syncModel = () => fast?.optimizer.sync();

  const labels = opts.dataset.labels;
  const needLabels = c.balanceClasses ? 'balance classes' : c.excludeLabels.length ? 'leave labels out' : undefined;
  const fail = (message: string): RunResult => {
    if (fast) fast.dispose();
    else {
      optimizer.dispose();
      disposeOptimizerState(optimizer);
    }
    ae.encoder.dispose();
    ae.decoder.dispose();
    return { status: 'failed', epochsDone: state.epochsDone, bestValLoss: state.bestValLoss, history: state.history, message, step: stepInfo };
  };
  if (needLabels && !labels) return fail(`This dataset has no labels, so the run cannot ${needLabels}. Import it from sub-folders named by label, or turn the option off.`);
  const split0 = splitIndices(opts.dataset.count, c.validationSplit, c.seed, c.testSplit);
  const split = { train: withoutLabels(split0.train, labels, c.excludeLabels), val: withoutLabels(split0.val, labels, c.excludeLabels), test: split0.test };
  if (split.train.length === 0) return fail(`Leaving out label${c.excludeLabels.length === 1 ? '' : 's'} ${c.excludeLabels.join(', ')} leaves no image to train on.`);
  if (c.batchSize > split.train.length)
    return fail(`The batch (${c.batchSize}) is larger than the training data (${split.train.length} images once labels ${c.excludeLabels.join(', ')} are left out).`);
  const trainImages = new BatchSource(opts.dataset, split.train, c.batchSize);
  const valChunk = evalBatchSize(c.inputShape, c.batchSize);
  const valImages = split.val.length ? new BatchSource(opts.dataset, split.val, valChunk) : undefined;
  const nTrain = split.train.length;
  const trainLabels = labels ? Int32Array.from(split.train, (i) => labels[i]) : undefined;
  const betaAt = (epoch: number) => klBetaAt(c, epoch);
  let cE: ModelConfig = c;
  const batches = Math.ceil(nTrain / c.batchSize);
  const batchStep = makeBatchStep({ c, ae, vars, images: trainImages, fast, optimizer, whyNotFast: 'reason' in compiled ? compiled.reason : null, reportStep });
  fast?.expectBatchSizes([Math.min(c.batchSize, nTrain), nTrain % c.batchSize].filter((n) => n > 0));
  const previewX = toTensor(opts.dataset, (valImages ?? trainImages).rows.subarray(0, 6));
  const [h, w, ch] = c.inputShape;
  const startedAt = Date.now();
  const batchEventMs = opts.batchEventMs ?? 200;
  let lastBatchEvent = 0;
  let lastYield = 0;
  let result: RunResult | undefined;

  const preview = (epoch: number, batch: number) => {
    syncModel();
    const images = tf.tidy(() => {
      const noisy = applyNoise(previewX, c.noise, c.seed + 7);
      const enc = ae.encoder.predict(noisy) as tf.Tensor | tf.Tensor[];
      const rec = ae.decoder.predict(Array.isArray(enc) ? enc[0] : enc) as tf.Tensor;
      return [previewX, noisy, rec].map((t) => tf.unstack(t).map(toUint8));
    });
    emit({ type: 'preview', epoch, batch, width: w, height: h, channels: ch, originals: images[0], noisy: images[1], reconstructions: images[2] });
  };

  const validate = async (): Promise<number | null> => {
    if (!valImages) return null;
    syncModel();
    let sum = 0;
    const n = valImages.count;
    for (let i = 0; i < n; i += valChunk) {
      const size = Math.min(valChunk, n - i);
      const l = tf.tidy(() => {
        const target = valImages.slice(i, size);
        const input = applyNoise(target, c.noise, c.seed * 7919 + i);
        return tf.mul(objective(ae, cE, input, target, c.seed + i), size);
      });
      sum += (await l.data())[0];
      l.dispose();
    }
    return sum / n;
  };

  /** The finished model measured on each split: objective, MSE, PSNR, SSIM, per label. */
  const endMetrics = async (): Promise<EndMetrics> => {
    const trainSome = split.train.subarray(0, Math.min(split.train.length, 2000));
    const test = split.test.length ? await measureSplit(ae, cE, opts.dataset, split.test) : null;
    return {
      train: await measureSplit(ae, cE, opts.dataset, trainSome),
      val: split.val.length ? await measureSplit(ae, cE, opts.dataset, split.val) : null,
      test,
      trainLabelCounts: labels ? [...labelCounts(split.train, labels)].map(([label, count]) => ({ label, count })) : undefined,
    };
  };

  try {
    for (let epoch = state.epochsDone + 1; epoch <= c.epochs; epoch++) {
      const epochStart = Date.now();
      const order = c.balanceClasses && trainLabels ? balancedOrder(trainLabels, c.seed + epoch) : permutation(nTrain, c.seed + epoch);
      cE = cE.beta === betaAt(epoch) ? cE : { ...c, beta: betaAt(epoch) };
      if (fast) fast.beta = cE.beta;
      let lossSum = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        if (opts.signal?.aborted) {
          emit({ type: 'stopped', reason: 'user', message: `Stopped during epoch ${epoch}; the last checkpoint is from epoch ${state.epochsDone}.` });
          result = { status: 'stopped', epochsDone: state.epochsDone, bestValLoss: state.bestValLoss, history: state.history, message: 'Stopped by the user.', step: stepInfo };
          return result;
        }
        const idx = order.subarray(b * c.batchSize, Math.min(nTrain, (b + 1) * c.batchSize));
        const cost = batchStep(idx, state.step++, cE);
        const loss = (await cost.data())[0];
        cost.dispose();
        if (!Number.isFinite(loss)) {
          const message =
            `The loss became ${Number.isNaN(loss) ? 'NaN' : 'infinite'} at epoch ${epoch}, batch ${b + 1}: training diverged. ` +
            `Try a lower learning rate (now ${c.learningRate}), a smaller β or a sigmoid output. The last good checkpoint (epoch ${state.epochsDone}) is kept.`;
          emit({ type: 'stopped', reason: 'nan', message });
          result = { status: 'failed', epochsDone: state.epochsDone, bestValLoss: state.bestValLoss, history: state.history, message, step: stepInfo };
          return result;
        }
        lossSum += loss * idx.length;
        seen += idx.length;
        const now = Date.now();
        const rate = seen / Math.max(1e-3, (now - epochStart) / 1000);
        const remaining = (batches - b - 1) * c.batchSize + (c.epochs - epoch) * nTrain;
        if (now - lastBatchEvent >= batchEventMs || b === batches - 1) {
          lastBatchEvent = now;
          emit({ type: 'batch', epoch, batch: b + 1, batches, loss, samplesPerSec: rate, etaSec: remaining / rate });
        }
        if ((b + 1) % c.previewEvery === 0) preview(epoch, b + 1);
        // Let the trainer's event loop breathe (stop requests, host messages) every few milliseconds,
        // not after every batch: a turn of the loop is a few percent of a small model's step.
        if (now - lastYield >= YIELD_MS) {
          await new Promise((r) => setImmediate(r));
          lastYield = Date.now();
        }
      }
      const loss = lossSum / seen;
      const trainSeconds = (Date.now() - epochStart) / 1000; // the training step only, for samples/s
      const valLoss = await validate();
      state.history.loss.push(loss);
      state.history.valLoss.push(valLoss);
      state.epochsDone = epoch;
      trackBest(state, valLoss ?? loss);
      const rate = nTrain / Math.max(1e-3, trainSeconds);
      emit({ type: 'epoch', epoch, epochs: c.epochs, loss, valLoss, samplesPerSec: rate, etaSec: ((c.epochs - epoch) * nTrain) / rate, elapsedSec: (Date.now() - startedAt) / 1000 });
      preview(epoch, batches);
      syncModel();
      await saveCheckpoint(ckptDir, ae, optimizer, fast, state);
      emit({ type: 'checkpoint', epoch, path: ckptDir });
      if (stopsEarly(state, c, epoch)) {
        const message = `No better validation loss for ${c.earlyStoppingPatience} epochs: stopped early after epoch ${epoch}.`;
        syncModel();
        const metrics = await endMetrics();
        await saveFinalModel(ae, c, trainImages, opts.runDir, { step: stepInfo, metrics });
        emit({ type: 'metrics', metrics });
        emit({ type: 'stopped', reason: 'early-stopping', message });
        result = { status: 'completed', epochsDone: epoch, bestValLoss: state.bestValLoss, history: state.history, message, step: stepInfo, metrics };
        return result;
      }
    }
    syncModel();
    const metrics = await endMetrics();
    await saveFinalModel(ae, c, trainImages, opts.runDir, { step: stepInfo, metrics });
    emit({ type: 'metrics', metrics });
    emit({ type: 'stopped', reason: 'done', message: `Finished ${c.epochs} epochs.` });
    result = { status: 'completed', epochsDone: state.epochsDone, bestValLoss: state.bestValLoss, history: state.history, step: stepInfo, metrics };
    return result;
  } finally {
    previewX.dispose();
    if (fast) fast.dispose();
    else {
      optimizer.dispose();
      disposeOptimizerState(optimizer);
    }
    ae.encoder.dispose();
    ae.decoder.dispose();
  }
}

/** The best monitored loss so far and the epochs since it (early stopping): validation loss, or training loss without validation. */
export function trackBest(state: Pick<RunState, 'bestValLoss' | 'sinceBest'>, monitored: number): void {
  if (state.bestValLoss === null || monitored < state.bestValLoss - 1e-7) {
    state.bestValLoss = monitored;
    state.sinceBest = 0;
  } else state.sinceBest++;
}

/** Whether early stopping ends the run after `epoch` (patience 0 = off; the last epoch ends it anyway). */
export function stopsEarly(state: Pick<RunState, 'sinceBest'>, c: Pick<ModelConfig, 'earlyStoppingPatience' | 'epochs'>, epoch: number): boolean {
  return c.earlyStoppingPatience > 0 && state.sinceBest >= c.earlyStoppingPatience && epoch < c.epochs;
}

/** Replaces the run's checkpoint (model, optimizer state, state.json) in one atomic folder swap. */
async function saveCheckpoint(ckptDir: string, ae: Autoencoder, optimizer: tf.Optimizer, fast: FastStep | undefined, state: RunState): Promise<void> {
  const snapshot = JSON.parse(JSON.stringify(state)) as RunState;
  await writeDirAtomic(ckptDir, async (tmp) => {
    await saveAutoencoder(ae, tmp);
    await saveOptimizer(optimizer, tmp);
    fast?.optimizer.releaseWeights();
    fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(snapshot));
  });
}

/**
 * One optimisation step on a batch (its images filled from the dataset, augmented and corrupted by noise as the
 * config says) on the step chosen for the run, returning the loss (the caller disposes it). The first
 * step reports which form of the step runs and why not a faster one; a fallback later is reported too.
 */
function makeBatchStep(o: {
  c: ModelConfig;
  ae: Autoencoder;
  vars: tf.Variable[];
  /** The training split; a batch's `idx` are positions in it. */
  images: BatchSource;
  fast: FastStep | undefined;
  optimizer: tf.Optimizer;
  whyNotFast: string | null;
  reportStep: (info: StepInfo) => void;
}): (idx: Int32Array, step: number, cE: ModelConfig) => tf.Scalar {
  const { c, ae, vars, images, fast, optimizer } = o;
  let reported = false;
  if (fast) fast.onFallback = (reason) => o.reportStep({ step: 'kernels', reason, fallback: true });
  const batch = (idx: Int32Array, step: number): { input: tf.Tensor; target: tf.Tensor } => {
    const gathered = images.gather(idx);
    const target = augmentActive(c.augment) ? augmentBatch(gathered, c.augment, c.seed * 7_919 + step) : gathered;
    return { input: c.noise.type === 'none' || c.noise.level === 0 ? target : applyNoise(target, c.noise, c.seed * 1_000_003 + step), target };
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
        o.reportStep({ step: form, reason: form === 'graph' ? null : (fast.graphRefusal ?? 'the graph step is turned off (AE_GRAPH_STEP=0)'), fallback: form !== 'graph' && fast.tryGraph });
      } else o.reportStep({ step: 'tfjs', reason: o.whyNotFast, fallback: fastStepEnabled() });
    }
    return cost;
  };
}

/** tfjs optimizers' dispose() frees only the iteration counter; free their slot variables too. */
function disposeOptimizerState(optimizer: tf.Optimizer) {
  const o = optimizer as unknown as Record<string, unknown>;
  for (const key of ['accumulatedFirstMoment', 'accumulatedSecondMoment', 'accumulations', 'accumulatedMeanSquares', 'accumulatedMoments', 'accumulatedMeanGrads']) {
    const slots = o[key] as Array<{ variable: tf.Variable } | undefined> | undefined;
    if (Array.isArray(slots)) for (const s of slots) if (s?.variable && !s.variable.isDisposed) s.variable.dispose();
  }
  for (const key of ['accBeta1', 'accBeta2']) {
    const v = o[key] as tf.Variable | undefined;
    if (v && !v.isDisposed) v.dispose();
  }
}

/** Objective, MSE, PSNR, SSIM (means) and per-label MSE of the model on `indices` of the dataset, in batches. */
export async function measureSplit(ae: Autoencoder, c: ModelConfig, ds: Dataset, indices: Int32Array): Promise<SplitMetrics> {
  const n = indices.length;
  let loss = 0;
  const mse: number[] = [];
  const psnr: number[] = [];
  const ssim: number[] = [];
  const batch = evalBatchSize(ds.shape, 256);
  const images = new BatchSource(ds, indices, batch);
  for (let i = 0; i < n; i += batch) {
    const x = images.slice(i, Math.min(batch, n - i));
    const [rec, l] = tf.tidy(() => {
      const target = x;
      const input = applyNoise(target, c.noise, c.seed * 7919 + i);
      const enc = ae.encoder.predict(input) as tf.Tensor | tf.Tensor[];
      return [ae.decoder.predict(Array.isArray(enc) ? enc[0] : enc) as tf.Tensor4D, tf.mul(objective(ae, c, input, target, c.seed + i), x.shape[0])];
    });
    const m = await imageMetrics(x, rec);
    loss += (await l.data())[0];
    mse.push(...m.mse);
    psnr.push(...m.psnr.map((v) => Math.min(100, v)));
    ssim.push(...m.ssim);
    tf.dispose([x, rec, l]);
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  let perLabel: SplitMetrics['perLabel'];
  if (ds.labels) {
    const sums = new Map<number, { count: number; sum: number }>();
    for (let k = 0; k < n; k++) {
      const lab = ds.labels[indices[k]];
      const e = sums.get(lab) ?? { count: 0, sum: 0 };
      e.count++;
      e.sum += mse[k];
      sums.set(lab, e);
    }
    perLabel = [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([label, e]) => ({ label, count: e.count, mse: e.sum / e.count }));
  }
  return { count: n, loss: loss / Math.max(1, n), mse: mean(mse), psnr: mean(psnr), ssim: mean(ssim), perLabel };
}

/** The trained model: model.json (the whole autoencoder), encoder/ and decoder/ (TensorFlow.js format), config.json, the latent statistics and report.json (step path, end-of-run metrics). */
async function saveFinalModel(ae: Autoencoder, c: ModelConfig, trainImages: BatchSource, runDir: string, report: { step: StepInfo | undefined; metrics: EndMetrics }) {
  const stats = await fitLatentStats(ae, trainImages, evalBatchSize(c.inputShape, c.batchSize));
  await writeDirAtomic(path.join(runDir, 'model'), async (tmp) => {
    await saveAutoencoder(ae, tmp, { full: true });
    fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(c, null, 2));
    fs.writeFileSync(path.join(tmp, 'latent-stats.json'), JSON.stringify(stats));
    fs.writeFileSync(path.join(tmp, 'report.json'), JSON.stringify(report, null, 2));
  });
}
