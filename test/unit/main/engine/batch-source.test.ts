// Batches filled from the dataset's typed array (data.ts BatchSource) instead of one float tensor of
// the whole split: the same pixels as before, safe reuse of the fill buffer, the same training as
// the whole-split-tensor-and-gather way it replaced, and no tensor anywhere near a split's size.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../../src-main/engine/tf';
import {
  BatchSource,
  buildAutoencoder,
  imageMetrics,
  makeOptimizer,
  objective,
  splitIndices,
  toTensor,
  trainRun,
  validateConfig,
  type Dataset,
} from '../../../../src-main/engine';
import { msePerImage, ssimPerImage } from '../../../../src-main/engine/metrics';
import { trainableVariables } from '../../../../src-main/engine/models';
import { permutation } from '../../../../src-main/engine/rng';
import { RowGather, type TrainingData } from '../../../../src-main/engine/data';
import { mnist, tmpRunDir } from './helpers';

const dirs: string[] = [];
const runDir = (name: string) => {
  const d = tmpRunDir(name);
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  delete process.env.AE_FAST_STEP;
});

/** Real MNIST digits as 12×12×3 RGB (a crop, three channels that differ), uint8 or float. */
function rgb(n: number, format: 'uint8' | 'float'): Dataset {
  const src = mnist(n);
  const S = 12;
  const images = format === 'uint8' ? new Uint8Array(n * S * S * 3) : new Float32Array(n * S * S * 3);
  for (let k = 0; k < n; k++)
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const v = src.images[k * 784 + (y + 8) * 28 + (x + 8)];
        const o = ((k * S + y) * S + x) * 3;
        const px = [v, 255 - v, (v * 7) % 256];
        for (let ch = 0; ch < 3; ch++) images[o + ch] = format === 'uint8' ? px[ch] : px[ch] / 255;
      }
  return { images, labels: src.labels, count: n, shape: [S, S, 3] };
}

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('BatchSource', () => {
  for (const format of ['uint8', 'float'] as const) {
    it(`gives exactly the pixels of the whole-split tensor gathered natively (${format})`, () => {
      const ds = rgb(40, format);
      const rows = Int32Array.from([5, 39, 0, 17, 17, 3, 22, 8, 31, 12, 1]);
      const whole = toTensor(ds, rows);
      const src = new BatchSource(ds, rows, 4);
      const positions = Int32Array.from([10, 0, 4, 3, 7]); // more than maxBatch: the buffer grows
      const gathered = tf.gather(whole, tf.tensor1d(positions, 'int32'));
      const batch = src.gather(positions);
      expect(batch.shape).toEqual([5, 12, 12, 3]);
      expect(batch.dtype).toBe('float32');
      expect(values(batch)).toEqual(values(gathered));
      const part = src.slice(8, 3); // the last, partial batch
      expect(values(part)).toEqual(values(whole.slice(8, 3)));
      tf.dispose([whole, gathered, batch, part]);
    });
  }

  it('scales uint8 pixels as x · (1/255), which in float32 is x / 255 for every byte', () => {
    const ds: Dataset = { images: Uint8Array.from({ length: 256 }, (_, v) => v), count: 1, shape: [16, 16, 1] };
    const t = new BatchSource(ds, Int32Array.of(0), 1).slice(0, 1);
    const got = t.dataSync();
    for (let v = 0; v < 256; v++) {
      expect(got[v]).toBe(Math.fround(v * (1 / 255)));
      expect(got[v]).toBe(Math.fround(v / 255));
    }
    t.dispose();
  });

  it('tfjs-node neither copies a typed array when a tensor is made nor, often, when TensorFlow first reads it', () => {
    // Why BatchSource takes care before reusing its buffer: (1) the tensor reads the array when a
    // kernel first uses it; (2) after that, TensorFlow often keeps using the array's own memory.
    const buf = new Float32Array([1, 2, 3, 4]);
    const lazy = tf.tensor1d(buf);
    buf[0] = 99;
    expect(values(lazy)[0]).toBe(99);
    lazy.dispose();
    let shared = 0;
    for (let i = 0; i < 64; i++) {
      const a = new Float32Array(1000).fill(1);
      const t = tf.tensor1d(a);
      tf.add(t, 0).dispose(); // a kernel reads it: now it is TensorFlow's
      a[0] = 2;
      if (t.dataSync()[0] === 2) shared++;
      t.dispose();
    }
    expect(shared).toBeGreaterThan(0);
  });

  it('reuses its buffer safely: a batch keeps its values when the next one refills the buffer', () => {
    const ds = rgb(12, 'uint8');
    const all = Int32Array.from({ length: 12 }, (_, i) => i);
    const expected = [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [11, 10, 9, 8],
    ].map((rows) => {
      const t = toTensor(ds, rows);
      const v = values(t);
      t.dispose();
      return v;
    });
    // Many sources, so that some get a buffer TensorFlow would have shared rather than copied.
    for (let i = 0; i < 48; i++) {
      const src = new BatchSource(ds, all, 4);
      const first = src.slice(0, 4);
      const second = src.slice(4, 4); // refills the buffer before any kernel has read `first`
      const third = src.gather([11, 10, 9, 8]);
      expect(values(first)).toEqual(expected[0]);
      expect(values(second)).toEqual(expected[1]);
      expect(values(third)).toEqual(expected[2]);
      tf.dispose([first, second, third]);
    }
  });
});

/**
 * The training loop as it was before batch sources, on the plain tfjs step: the whole training and
 * validation splits as two float tensors, each batch gathered from the first with tf.gather, the
 * validation loss from slices of the second. Noise and augmentation off. Returns the loss history.
 */
async function historyTheOldWay(input: object, ds: Dataset): Promise<{ loss: number[]; valLoss: number[] }> {
  const checked = validateConfig(input, { count: ds.count, shape: ds.shape });
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  const c = checked.config;
  const ae = buildAutoencoder(c);
  const vars = trainableVariables(ae);
  const optimizer = makeOptimizer(c);
  const split = splitIndices(ds.count, c.validationSplit, c.seed, c.testSplit);
  const trainX = toTensor(ds, split.train);
  const valX = toTensor(ds, split.val);
  const n = split.train.length;
  const history = { loss: [] as number[], valLoss: [] as number[] };
  let step = 0;
  for (let epoch = 1; epoch <= c.epochs; epoch++) {
    const order = permutation(n, c.seed + epoch);
    let sum = 0;
    for (let b = 0; b * c.batchSize < n; b++) {
      const idx = order.subarray(b * c.batchSize, Math.min(n, (b + 1) * c.batchSize));
      const s = step++;
      const cost = tf.tidy(() => {
        const x = tf.gather(trainX, tf.tensor1d(idx, 'int32'));
        return optimizer.minimize(() => objective(ae, c, x, x, c.seed + 31 * s), true, vars) as tf.Scalar;
      });
      sum += cost.dataSync()[0] * idx.length;
      cost.dispose();
    }
    history.loss.push(sum / n);
    let val = 0;
    for (let i = 0; i < valX.shape[0]; i += c.batchSize) {
      const size = Math.min(c.batchSize, valX.shape[0] - i);
      const l = tf.tidy(() => {
        const t = valX.slice(i, size);
        return tf.mul(objective(ae, c, t.clone(), t, c.seed + i), size);
      });
      val += l.dataSync()[0];
      l.dispose();
    }
    history.valLoss.push(val / valX.shape[0]);
  }
  tf.dispose((await optimizer.getWeights()).map((w) => w.tensor));
  optimizer.dispose();
  tf.dispose([trainX, valX]);
  ae.encoder.dispose();
  ae.decoder.dispose();
  return history;
}

describe('training reads its batches from the dataset', () => {
  it('gives the same loss history as the whole-split tensor with gathered batches, with the tensor count flat', async () => {
    process.env.AE_FAST_STEP = '0'; // the plain tfjs step, which the reference loop reproduces
    const ds = mnist(600);
    // 480 training images in batches of 50: a partial last batch too
    const config = {
      kind: 'dense',
      inputShape: [28, 28, 1],
      latentDim: 8,
      hidden: [32],
      batchSize: 50,
      epochs: 3,
      seed: 11,
      validationSplit: 0.2,
      previewEvery: 4,
    };
    const reference = await historyTheOldWay(config, ds);
    const before = tf.memory().numTensors;
    const tensors: number[] = [];
    const r = await trainRun({
      config,
      dataset: ds,
      runDir: runDir('batches-same'),
      onEvent: (e) => e.type === 'epoch' && tensors.push(tf.memory().numTensors),
    });
    expect(r.status).toBe('completed');
    expect(r.step?.step).toBe('tfjs');
    expect(r.history.loss).toEqual(reference.loss);
    expect(r.history.valLoss).toEqual(reference.valLoss);
    expect(reference.loss[2]).toBeLessThan(reference.loss[0]); // it did train
    expect(new Set(tensors).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains a uint8 dataset without ever holding a tensor anywhere near the size of a split', async () => {
    const ds = mnist(10_000); // uint8
    const config = {
      kind: 'dense',
      inputShape: [28, 28, 1],
      latentDim: 16,
      hidden: [32],
      batchSize: 64,
      epochs: 2,
      seed: 4,
      validationSplit: 0.1,
      previewEvery: 20,
    };
    const split = splitIndices(ds.count, 0.1, 4);
    const splitFloatBytes = split.train.length * 784 * 4; // what the whole training split took as float32 (28 MB)
    const before = tf.memory();
    let sampledMax = 0;
    const tensors: number[] = [];
    // tf.profile: the largest total of tensor bytes after any kernel that went through tfjs's engine
    // (previews, validation, end-of-run metrics, latent statistics; the fast step's own kernels bypass it).
    const profile = await tf.profile(async () => {
      const r = await trainRun({
        config,
        dataset: ds,
        runDir: runDir('batches-u8'),
        batchEventMs: 0,
        onEvent: (e) => {
          sampledMax = Math.max(sampledMax, tf.memory().numBytes - before.numBytes);
          if (e.type === 'epoch') tensors.push(tf.memory().numTensors);
        },
      });
      expect(r.status).toBe('completed');
      expect(r.history.loss[1]).toBeLessThan(r.history.loss[0]);
      return [];
    });
    // Between batches: the model, its optimizer state and the preview images (well under 1 MB here),
    // where the whole-split tensors alone took 31 MB.
    expect(sampledMax).toBeGreaterThan(0);
    expect(sampledMax).toBeLessThan(splitFloatBytes / 8);
    // At any kernel: the largest is the end-of-run SSIM on a batch of 256 images (about 12 MB here).
    expect(profile.peakBytes - before.numBytes).toBeLessThan(splitFloatBytes);
    expect(tensors[1]).toBe(tensors[0]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });
});

describe('end-of-run metrics on big images', () => {
  it('measures 64×64 RGB images a few at a time: the same values, a fraction of the memory', async () => {
    const a = tf.tidy(() => tf.randomUniform([100, 64, 64, 3], 0, 1, 'float32', 1)) as tf.Tensor4D;
    const b = tf.tidy(() =>
      tf.clipByValue(tf.add(a, tf.randomNormal(a.shape, 0, 0.1, 'float32', 2)), 0, 1),
    ) as tf.Tensor4D;
    const all = await tf.profile(() => [msePerImage(a, b), ssimPerImage(a, b)]);
    const [mse, ssim] = (all.result as tf.Tensor[]).map(values);
    const before = tf.memory().numBytes;
    const allPeak = all.peakBytes; // read now: tf.profile hands back the same object every time
    let got: Awaited<ReturnType<typeof imageMetrics>> | undefined;
    const chunked = await tf.profile(async () => {
      got = await imageMetrics(a, b);
      return [];
    });
    expect(got!.mse).toEqual(mse);
    got!.ssim.forEach((v, i) => expect(v).toBeCloseTo(ssim[i], 6)); // the last float32 bit may differ
    // the SSIM's maps of 100 images at once, against those of a few at a time
    expect(chunked.peakBytes - before).toBeLessThan((allPeak - before) / 3);
    tf.dispose([a, b, ...(all.result as tf.Tensor[])]);
  });
});

describe('RowGather: rows as stored, for the inference graph', () => {
  it('consecutive rows are a view, others a copy in a reused buffer, streamed rows come from the reader; the pixels are the rows', () => {
    const ds = rgb(20, 'uint8');
    const size = 12 * 12 * 3;
    const rows = Int32Array.from([3, 4, 5, 11, 2, 19]);
    const g = new RowGather(ds, rows);
    const view = g.slice(0, 3);
    expect(view.buffer).toBe(ds.images.buffer); // rows 3, 4, 5: no copy
    expect(Array.from(view)).toEqual(Array.from(ds.images.subarray(3 * size, 6 * size)));
    const copy = g.slice(2, 4); // rows 5, 11, 2, 19
    expect(copy).toBeInstanceOf(Uint8Array);
    expect(copy.buffer).not.toBe(ds.images.buffer);
    [5, 11, 2, 19].forEach((r, k) =>
      expect(Array.from(copy.subarray(k * size, (k + 1) * size))).toEqual(
        Array.from(ds.images.subarray(r * size, (r + 1) * size)),
      ),
    );
    // A streamed dataset: the reader's rows, in order.
    const asked: number[] = [];
    const images = ds.images as Uint8Array;
    const streamed: TrainingData = {
      ...ds,
      images: {
        readRows: (n: number, rowAt: (k: number) => number) => {
          const out = new Uint8Array(n * size);
          for (let k = 0; k < n; k++) {
            asked.push(rowAt(k));
            out.set(images.subarray(rowAt(k) * size, (rowAt(k) + 1) * size), k * size);
          }
          return out;
        },
      },
    };
    expect(Array.from(new RowGather(streamed, rows).slice(1, 4))).toEqual(Array.from(copyOf([4, 5, 11, 2])));
    expect(asked).toEqual([4, 5, 11, 2]);
    const floats = rgb(20, 'float');
    expect(new RowGather(floats, rows).slice(3, 2)).toBeInstanceOf(Float32Array);
    function copyOf(r: number[]): Uint8Array {
      const out = new Uint8Array(r.length * size);
      r.forEach((row, k) => out.set(images.subarray(row * size, (row + 1) * size), k * size));
      return out;
    }
  });
});
