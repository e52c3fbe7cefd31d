// Real models on real MNIST (the `mnist` package) must beat the trivial "predict the mean image"
// baseline clearly, denoise, and generate varied samples. Observed numbers are printed.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrained, splitIndices, trainRun, type ModelConfigInput } from '../../../../src-main/engine';
import { meanImageBaseline, mnist, tmpRunDir } from './helpers';
import * as tf from '@tensorflow/tfjs-node';

const N = 6000;
const ds = mnist(N);
const split = splitIndices(N, 0.1, 42);
const val = new Uint8Array(split.val.length * 784);
split.val.forEach((i, k) => val.set(ds.images.subarray(i * 784, (i + 1) * 784), k * 784));
let baseline = 0;
beforeAll(() => {
  baseline = meanImageBaseline(ds, split.train, split.val);
  console.log(`mean-image baseline MSE on ${split.val.length} validation digits: ${baseline.toFixed(4)}`);
});

async function trainAndMeasure(config: ModelConfigInput) {
  const dir = tmpRunDir(config.kind ?? 'x');
  const r = await trainRun({ config: { seed: 42, validationSplit: 0.1, ...config }, dataset: ds, runDir: dir });
  expect(r.status, r.message).toBe('completed');
  const model = await loadTrained(dir);
  const m = await model.metrics(val);
  const mse = m.mse.reduce((a, b) => a + b, 0) / m.mse.length;
  return { r, model, mse };
}

describe('quality on real MNIST', () => {
  it('the classic dense AE (784→128→784) beats the mean image within 3 epochs', async () => {
    const { r, model, mse } = await trainAndMeasure({
      kind: 'dense',
      inputShape: [28, 28, 1],
      latentDim: 128,
      epochs: 3,
    });
    console.log(
      `dense: val loss per epoch ${r.history.valLoss.map((v) => v?.toFixed(4)).join(', ')}; val MSE ${mse.toFixed(4)} vs baseline ${baseline.toFixed(4)}`,
    );
    expect(mse).toBeLessThan(0.65 * baseline); // observed ≈ 0.038 vs 0.067
    model.dispose();
  });

  it('a conv AE (16-d code) beats the mean image within 4 epochs', async () => {
    const { r, model, mse } = await trainAndMeasure({
      kind: 'conv',
      inputShape: [28, 28, 1],
      latentDim: 16,
      epochs: 4,
      batchSize: 32,
      learningRate: 2e-3,
    });
    console.log(
      `conv: val loss ${r.history.valLoss.map((v) => v?.toFixed(4)).join(', ')}; val MSE ${mse.toFixed(4)} vs baseline ${baseline.toFixed(4)}`,
    );
    expect(mse).toBeLessThan(0.5 * baseline); // observed ≈ 0.014
    model.dispose();
  });

  it('a VAE reconstructs better than the mean image and its samples are not all alike', async () => {
    const { r, model, mse } = await trainAndMeasure({
      kind: 'vae',
      inputShape: [28, 28, 1],
      latentDim: 16,
      epochs: 4,
      batchSize: 64,
      loss: 'bce',
    });
    const samples = model.sample(64, 3);
    // pixel variance across the 64 samples, averaged over pixels
    let v = 0;
    for (let j = 0; j < 784; j++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < 64; i++) {
        s += samples[i * 784 + j];
        s2 += samples[i * 784 + j] ** 2;
      }
      v += s2 / 64 - (s / 64) ** 2;
    }
    v /= 784;
    console.log(
      `vae: val loss ${r.history.valLoss.map((x) => x?.toFixed(4)).join(', ')}; recon MSE ${mse.toFixed(4)} vs baseline ${baseline.toFixed(4)}; sample pixel variance ${v.toFixed(4)}`,
    );
    expect(mse).toBeLessThan(0.6 * baseline);
    expect(v).toBeGreaterThan(0.01); // identical samples would give 0
    model.dispose();
  });

  it('a denoising conv AE at Gaussian σ=0.5 raises PSNR of noisy validation images by ≥ 5 dB', async () => {
    const noise = { type: 'gaussian', level: 0.5 } as const;
    const { model } = await trainAndMeasure({
      kind: 'conv',
      inputShape: [28, 28, 1],
      latentDim: 32,
      epochs: 4,
      batchSize: 32,
      learningRate: 2e-3,
      noise,
    });
    const { applyNoise, imageMetrics } = await import('../../../../src-main/engine');
    const clean = tf.tidy(() =>
      tf.div(tf.tensor4d(Float32Array.from(val), [split.val.length, 28, 28, 1]), 255),
    ) as tf.Tensor4D;
    const noisy = applyNoise(clean, noise, 123) as tf.Tensor4D;
    const denoised = tf.tensor4d(model.reconstruct(noisy.dataSync() as Float32Array), clean.shape);
    const before = await imageMetrics(clean, noisy);
    const after = await imageMetrics(clean, denoised);
    const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const gain = avg(after.psnr) - avg(before.psnr);
    console.log(
      `denoising: PSNR noisy ${avg(before.psnr).toFixed(2)} dB → denoised ${avg(after.psnr).toFixed(2)} dB (gain ${gain.toFixed(2)} dB); SSIM ${avg(before.ssim).toFixed(3)} → ${avg(after.ssim).toFixed(3)}`,
    );
    expect(gain).toBeGreaterThanOrEqual(5);
    tf.dispose([clean, noisy, denoised]);
    model.dispose();
  });
});
