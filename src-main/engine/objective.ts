// The training objective and the optimizers a run can use (train.ts re-exports them; run/ and
// the step tests use them).
import { tf } from './tf';
import { codeOf, unreachable, type ModelConfig } from './config';
import type { Autoencoder } from './models';
import { ssimPerImage } from './metrics';

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

/** tfjs optimizers' dispose() frees only the iteration counter; free their slot variables too. */
export function disposeOptimizerState(optimizer: tf.Optimizer): void {
  const o = optimizer as unknown as Record<string, unknown>;
  for (const key of [
    'accumulatedFirstMoment',
    'accumulatedSecondMoment',
    'accumulations',
    'accumulatedMeanSquares',
    'accumulatedMoments',
    'accumulatedMeanGrads',
  ]) {
    const slots = o[key] as Array<{ variable: tf.Variable } | undefined> | undefined;
    if (Array.isArray(slots)) for (const s of slots) if (s?.variable && !s.variable.isDisposed) s.variable.dispose();
  }
  for (const key of ['accBeta1', 'accBeta2']) {
    const v = o[key] as tf.Variable | undefined;
    if (v && !v.isDisposed) v.dispose();
  }
}

/**
 * The training objective for one batch (a scalar), per pixel:
 * reconstruction (MSE or BCE) [+ β·KL/D for VAEs] [+ l1·mean|z| for sparse AEs].
 */
export function objective(
  ae: Autoencoder,
  c: ModelConfig,
  input: tf.Tensor,
  target: tf.Tensor,
  seed: number,
): tf.Scalar {
  return tf.tidy(() => {
    const enc = ae.encoder.apply(input) as tf.Tensor | tf.Tensor[];
    let z: tf.Tensor;
    let extra: tf.Scalar | undefined;
    const code = codeOf(c.kind);
    switch (code) {
      case 'variational': {
        const [mu, logVar] = enc as tf.Tensor[];
        const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', seed);
        z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps));
        // KL(q(z|x) || N(0, I)) per image, divided by the pixel count so it lives on the same scale as the per-pixel loss.
        const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar)), -1));
        const pixels = c.inputShape[0] * c.inputShape[1] * c.inputShape[2];
        extra = tf.mul(c.beta / pixels, tf.mean(kl)) as tf.Scalar;
        break;
      }
      case 'sparse':
        z = enc as tf.Tensor;
        extra = tf.mul(c.l1, tf.mean(tf.abs(z))) as tf.Scalar;
        break;
      case 'plain':
        z = enc as tf.Tensor;
        break;
      default:
        return unreachable(code, 'kind of code');
    }
    const recon = ae.decoder.apply(z) as tf.Tensor;
    const rec = reconstructionLoss(c.loss, recon, target, c.ssimWeight);
    return (extra ? tf.add(rec, extra) : rec) as tf.Scalar;
  });
}

/** A VAE's KL weight in an epoch (1-based): β·(epoch−1)/N over the first N epochs of a KL warm-up, then β. */
export function klBetaAt(c: Pick<ModelConfig, 'beta' | 'klWarmupEpochs'>, epoch: number): number {
  return c.klWarmupEpochs > 0 ? c.beta * Math.min(1, (epoch - 1) / c.klWarmupEpochs) : c.beta;
}

/**
 * The reconstruction loss of a batch: MSE, BCE, 1 − mean SSIM (metrics.ts's SSIM: 11×11 Gaussian
 * window, its gradient through tfjs's depthwise convolution), or (1 − w)·MSE + w·(1 − SSIM).
 */
export function reconstructionLoss(
  kind: ModelConfig['loss'],
  recon: tf.Tensor,
  target: tf.Tensor,
  ssimWeight = 0.5,
): tf.Scalar {
  return tf.tidy(() => {
    if (kind === 'mse') return tf.mean(tf.squaredDifference(recon, target)) as tf.Scalar;
    if (kind === 'ssim' || kind === 'l2+ssim') {
      const dssim = tf.sub(1, tf.mean(ssimPerImage(recon as tf.Tensor4D, target as tf.Tensor4D)));
      if (kind === 'ssim') return dssim as tf.Scalar;
      return tf.add(
        tf.mul(1 - ssimWeight, tf.mean(tf.squaredDifference(recon, target))),
        tf.mul(ssimWeight, dssim),
      ) as tf.Scalar;
    }
    const p = tf.clipByValue(recon, 1e-7, 1 - 1e-7);
    return tf.neg(
      tf.mean(tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))))),
    ) as tf.Scalar;
  });
}
