// The inference graph (src-main/engine/fast/infer.ts) behind TrainedModel's reconstruct, encode,
// decode and metrics: for every model kind the same numbers as tfjs's layers (the path it replaces,
// AE_INFER_GRAPH=0) on real MNIST digits and RGB pictures, from uint8 and float pixels, with a
// batch that is not a whole number of sub-graph sizes, chunks for big pictures, and no tensor left.
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { buildAutoencoder, trainRun, validateConfig, type ModelConfigInput } from '../../../../src-main/engine';
import { loadTrained, TrainedModel } from '../../../../src-main/engine/trained-model';
import { inferChunk } from '../../../../src-main/engine/fast/infer';
import { mnist, tmpRunDir } from './helpers';

afterEach(() => {
  delete process.env.AE_INFER_GRAPH;
});

const TOL = 1e-5;
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

function resolve(config: ModelConfigInput) {
  const r = validateConfig({ batchSize: 16, seed: 3, ...config }, { count: 1000, shape: config.inputShape });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

/** `count` RGB pictures of side × side with real structure (smooth gradients and stripes), uint8. */
function rgb(count: number, side: number): Uint8Array {
  const out = new Uint8Array(count * side * side * 3);
  for (let i = 0, k = 0; i < count; i++)
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++)
        for (let c = 0; c < 3; c++)
          out[k++] = Math.round(127.5 + 127.5 * Math.sin((x * (c + 1) + y * (i % 5)) / 7 + i));
  return out;
}

/** The same model on both paths: the graph (default) and tfjs's layers (AE_INFER_GRAPH=0). */
async function compare(m: TrainedModel, images: Uint8Array | Float32Array) {
  const onLayers = new TrainedModel(m.ae, m.config, m.latentStats);
  process.env.AE_INFER_GRAPH = '0';
  expect(onLayers.inferencePath).toBe('layers');
  expect(onLayers.graphRefusal).toMatch(/AE_INFER_GRAPH=0/);
  const ref = {
    recon: onLayers.reconstruct(images),
    code: onLayers.encode(images),
    metrics: await onLayers.metrics(images),
  };
  const refDecoded = onLayers.decode(ref.code);
  const refMaps = onLayers.infer(images, { errMap: true, ssimMap: true });
  delete process.env.AE_INFER_GRAPH;
  const before = tf.memory().numTensors;
  expect(m.inferencePath, m.graphRefusal).toBe('graph');
  const px = m.pixels;
  const floats = images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images;
  for (let round = 0; round < 2; round++) {
    expect(maxDiff(m.reconstruct(images), ref.recon)).toBeLessThan(TOL);
    expect(maxDiff(m.reconstructBatch(floats), ref.recon)).toBeLessThan(TOL);
    expect(maxDiff(m.encode(images), ref.code)).toBeLessThan(TOL);
    expect(maxDiff(m.decode(ref.code), refDecoded)).toBeLessThan(TOL);
    const got = await m.metrics(images);
    expect(maxDiff(got.mse, ref.metrics.mse)).toBeLessThan(1e-6);
    expect(maxDiff(got.ssim, ref.metrics.ssim)).toBeLessThan(TOL);
    const all = m.infer(images, { recon: true, code: true, mse: true, ssim: true });
    expect(maxDiff(all.mse!, ref.metrics.mse)).toBeLessThan(1e-6);
    expect(all.recon!.length).toBe(ref.recon.length);
    // The per-pixel maps (anomaly maps build on them): the layers' maps, and their means are the per-image values.
    const maps = m.infer(images, { errMap: true, ssimMap: true });
    expect(maxDiff(maps.errMap!, refMaps.errMap!)).toBeLessThan(TOL);
    // (a pixel of the SSIM map divides by local variances + 9e-4: float rounding shows more there than in the mean)
    expect(maxDiff(maps.ssimMap!, refMaps.ssimMap!)).toBeLessThan(1e-3);
    const perImage = maps.ssimMap!.length / (images.length / px);
    const meanOf = (a: Float32Array, per: number, i: number) =>
      a.subarray(i * per, (i + 1) * per).reduce((x, y) => x + y, 0) / per;
    expect(Math.abs(meanOf(maps.ssimMap!, perImage, 1) - ref.metrics.ssim[1])).toBeLessThan(1e-4);
    expect(Math.abs(meanOf(maps.errMap!, px, 1) - ref.metrics.mse[1])).toBeLessThan(1e-6);
    // One image at a time (Try it): the 1-image sub-graph.
    expect(maxDiff(m.reconstruct(images.subarray(px, 2 * px)), ref.recon.subarray(px, 2 * px))).toBeLessThan(TOL);
    expect(tf.memory().numTensors, 'the graph holds no tfjs tensor and leaves none').toBe(before);
  }
}

const KINDS: Array<[string, ModelConfigInput]> = [
  ['dense (A-like)', { kind: 'dense', inputShape: [28, 28, 1], latentDim: 32 }],
  ['deep-dense', { kind: 'deep-dense', inputShape: [28, 28, 1], latentDim: 8 }],
  ['conv (B-like)', { kind: 'conv', inputShape: [28, 28, 1], latentDim: 16, hidden: [8, 16] }],
  ['vae (μ as the code)', { kind: 'vae', inputShape: [28, 28, 1], latentDim: 2, hidden: [64], loss: 'bce' }],
  ['conv-vae', { kind: 'conv-vae', inputShape: [28, 28, 1], latentDim: 4, hidden: [8, 16] }],
  ['sparse', { kind: 'sparse', inputShape: [28, 28, 1], latentDim: 16, l1: 0.1 }],
  [
    'dense, leaky-relu, linear output',
    { kind: 'dense', inputShape: [28, 28, 1], latentDim: 16, activation: 'leaky-relu', outputActivation: 'linear' },
  ],
  ['conv, elu', { kind: 'conv', inputShape: [28, 28, 1], latentDim: 8, hidden: [4, 8], activation: 'elu' }],
];

describe('the inference graph gives the numbers tfjs layers give, for every model kind', () => {
  for (const [name, config] of KINDS) {
    it(name, async () => {
      const c = resolve(config);
      const before = tf.memory().numTensors;
      const m = new TrainedModel(buildAutoencoder(c), c, {
        mean: Array(c.latentDim).fill(0),
        std: Array(c.latentDim).fill(1),
      });
      // 37 digits: not a power of two, so the last (only) chunk runs padded on the 64-image sub-graph.
      await compare(m, mnist(37).images);
      m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('rgb conv, 3 stages, 5×5 kernels and conv-vae, rgb', async () => {
    for (const config of [
      { kind: 'conv', inputShape: [32, 32, 3], latentDim: 8, hidden: [4, 6, 8], kernelSize: 5 },
      { kind: 'conv-vae', inputShape: [32, 32, 3], latentDim: 4, hidden: [4, 6, 8] },
    ] as ModelConfigInput[]) {
      const c = resolve(config);
      const m = new TrainedModel(buildAutoencoder(c), c, {
        mean: Array(c.latentDim).fill(0),
        std: Array(c.latentDim).fill(1),
      });
      await compare(m, rgb(21, 32));
      m.dispose();
    }
  });

  it('big pictures go in chunks (128×128×3: 85 a chunk), the last one padded', async () => {
    const c = resolve({ kind: 'conv', inputShape: [128, 128, 3], latentDim: 8, hidden: [2, 2, 2, 2] });
    expect(inferChunk(128 * 128 * 3)).toBe(85);
    const m = new TrainedModel(buildAutoencoder(c), c, { mean: Array(8).fill(0), std: Array(8).fill(1) });
    await compare(m, rgb(88, 128)); // 85 + 3 (on the 4-image sub-graph)
    m.dispose();
  });
});

it('a trained run, loaded from disk, measures the same on both paths', async () => {
  const dir = tmpRunDir('infer');
  const ds = mnist(512);
  const r = await trainRun({
    config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 8, hidden: [8, 16], epochs: 1, batchSize: 64 },
    dataset: ds,
    runDir: dir,
  });
  expect(r.status, r.message).toBe('completed');
  const m = await loadTrained(dir);
  await compare(m, ds.images.subarray(0, 300 * 784)); // 256 + 44 (on the 64-image sub-graph)
  m.dispose();
});
