// The run machinery: memory discipline, determinism, NaN guard, stop/resume from the checkpoint,
// save/load round trip and the trained-model API (metrics, worst-k, projection, manifold).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { imageMetrics, loadTrained, pca2, trainRun, type RunEvent } from '../../../../src-main/engine';
import { mnist, tmpRunDir } from './helpers';

const small = mnist(2000);
const dense = { kind: 'dense', inputShape: [28, 28, 1], latentDim: 32, batchSize: 100, seed: 7 } as const;

describe('training runs', () => {
  it('keeps the tensor count flat across epochs and RSS from growing', async () => {
    const tensors: number[] = [];
    const rss: number[] = [];
    const before = tf.memory().numTensors;
    const r = await trainRun({
      config: { ...dense, epochs: 6, noise: { type: 'gaussian', level: 0.2 } },
      dataset: small,
      runDir: tmpRunDir('mem'),
      onEvent: (e) => {
        if (e.type === 'epoch') {
          tensors.push(tf.memory().numTensors);
          rss.push(process.memoryUsage().rss);
        }
      },
    });
    expect(r.status).toBe('completed');
    console.log(
      `tensors after each epoch: ${tensors.join(', ')}; RSS MB: ${rss.map((v) => Math.round(v / 2 ** 20)).join(', ')}`,
    );
    expect(tensors[4]).toBe(tensors[0]); // epoch 5 == epoch 1
    expect(new Set(tensors).size).toBe(1);
    expect(rss[5]).toBeLessThan(rss[1] * 1.15);
    expect(tf.memory().numTensors).toBe(before); // everything the run made is disposed
  });

  it('repeats: same seed and config give the same first-epoch loss', async () => {
    const run = async () =>
      (await trainRun({ config: { ...dense, epochs: 1 }, dataset: small, runDir: tmpRunDir('det') })).history.loss[0];
    const a = await run();
    const b = await run();
    console.log(`first-epoch loss: ${a} and ${b}`);
    expect(Math.abs(a - b)).toBeLessThan(1e-4);
    const c = (await trainRun({ config: { ...dense, epochs: 1, seed: 8 }, dataset: small, runDir: tmpRunDir('det') }))
      .history.loss[0];
    expect(Math.abs(a - c)).toBeGreaterThan(1e-6);
  });

  it('stops with an explanation when the loss becomes NaN or infinite, keeping the last checkpoint', async () => {
    const events: RunEvent[] = [];
    const r = await trainRun({
      config: { ...dense, epochs: 3, optimizer: 'sgd', momentum: 0, learningRate: 1e4, outputActivation: 'linear' },
      dataset: small,
      runDir: tmpRunDir('nan'),
      onEvent: (e) => events.push(e),
    });
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/NaN|infinite/);
    expect(r.message).toMatch(/lower learning rate/);
    expect(events.at(-1)).toMatchObject({ type: 'stopped', reason: 'nan' });
  });

  it('stops early when the validation loss stops improving', async () => {
    const events: RunEvent[] = [];
    // A learning rate this small changes nothing: no epoch beats the first one.
    const r = await trainRun({
      config: { ...dense, epochs: 10, optimizer: 'sgd', momentum: 0, learningRate: 1e-12, earlyStoppingPatience: 2 },
      dataset: small,
      runDir: tmpRunDir('early'),
      onEvent: (e) => events.push(e),
    });
    expect(r.status).toBe('completed');
    expect(r.epochsDone).toBe(3);
    expect(r.message).toMatch(/stopped early after epoch 3/);
    expect(events.at(-1)).toMatchObject({ type: 'stopped', reason: 'early-stopping' });
  });

  it('refuses a bad config with the field named', async () => {
    const r = await trainRun({ config: { ...dense, batchSize: 5000 }, dataset: small, runDir: tmpRunDir('bad') });
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/^batchSize:/);
  });

  it('stops when asked, then resumes from the checkpoint with history kept', async () => {
    const dir = tmpRunDir('resume');
    const ctrl = new AbortController();
    const events: RunEvent[] = [];
    const config = { ...dense, epochs: 3, previewEvery: 5 };
    const first = await trainRun({
      config,
      dataset: small,
      runDir: dir,
      signal: ctrl.signal,
      batchEventMs: 0,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'batch' && e.epoch === 2 && e.batch === 3) ctrl.abort();
      },
    });
    expect(first.status).toBe('stopped');
    expect(first.epochsDone).toBe(1);
    expect(events.some((e) => e.type === 'checkpoint' && e.epoch === 1)).toBe(true);
    const preview = events.find((e) => e.type === 'preview');
    expect(preview).toMatchObject({ width: 28, height: 28, channels: 1 });
    if (preview?.type === 'preview') {
      expect(preview.originals[0].length).toBe(784);
      expect(preview.reconstructions.length).toBe(preview.originals.length);
    }
    expect(fs.existsSync(path.join(dir, 'checkpoint', 'encoder', 'model.json'))).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]); // no half-written folders

    const resumed: number[] = [];
    const second = await trainRun({
      config,
      dataset: small,
      runDir: dir,
      resume: true,
      onEvent: (e) => e.type === 'epoch' && resumed.push(e.epoch),
    });
    expect(second.status).toBe('completed');
    expect(resumed).toEqual([2, 3]);
    expect(second.history.loss.length).toBe(3);
    expect(second.history.loss[0]).toBe(first.history.loss[0]);
    expect(second.history.loss[2]).toBeLessThan(second.history.loss[0]);
    const nothing = await trainRun({ config, dataset: small, runDir: tmpRunDir('none'), resume: true });
    expect(nothing).toMatchObject({ status: 'failed', message: expect.stringMatching(/no checkpoint/) });
  });
});

describe('trained model', () => {
  it('saves and loads (encoder and decoder separately) with identical outputs, and offers the gallery API', async () => {
    const dir = tmpRunDir('model');
    const r = await trainRun({
      config: { ...dense, kind: 'vae', latentDim: 2, hidden: [128], epochs: 2, loss: 'bce' },
      dataset: small,
      runDir: dir,
    });
    expect(r.status).toBe('completed');
    const model = await loadTrained(dir);
    const x = small.images.subarray(0, 5 * 784);
    const rec = model.reconstruct(x);
    expect(rec.length).toBe(5 * 784);

    // the encoder and the decoder each load on their own with plain tfjs
    const enc = await tf.loadLayersModel(`file://${path.join(dir, 'model', 'encoder', 'model.json')}`);
    const dec = await tf.loadLayersModel(`file://${path.join(dir, 'model', 'decoder', 'model.json')}`);
    const rec2 = tf.tidy(() => {
      const xt = tf.div(tf.tensor4d(Float32Array.from(x), [5, 28, 28, 1]), 255);
      const [mu] = enc.predict(xt) as tf.Tensor[];
      return (dec.predict(mu) as tf.Tensor).dataSync();
    });
    let maxDiff = 0;
    for (let i = 0; i < rec.length; i++) maxDiff = Math.max(maxDiff, Math.abs(rec[i] - rec2[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    enc.dispose();
    dec.dispose();

    // the whole autoencoder loads as one model too (model/model.json: image → reconstruction)
    const full = await tf.loadLayersModel(`file://${path.join(dir, 'model', 'model.json')}`);
    const rec4 = tf.tidy(() =>
      (full.predict(tf.div(tf.tensor4d(Float32Array.from(x), [5, 28, 28, 1]), 255)) as tf.Tensor).dataSync(),
    );
    expect(Math.max(...Array.from(rec4, (v, i) => Math.abs(v - rec[i])))).toBeLessThan(1e-5);
    full.dispose();

    // save() elsewhere and load again
    const copy = tmpRunDir('copy');
    await model.save(copy);
    for (const f of ['model.json', 'encoder/model.json', 'decoder/model.json'])
      expect(fs.existsSync(path.join(copy, f))).toBe(true);
    const again = await loadTrained(copy);
    const rec3 = again.reconstruct(x);
    expect(Math.max(...rec3.map((v, i) => Math.abs(v - rec[i])))).toBeLessThan(1e-5);
    again.dispose();

    expect(model.encode(x).length).toBe(5 * 2);
    expect(model.sample(4, 1).length).toBe(4 * 784);
    const path5 = model.interpolate(x.subarray(0, 784), x.subarray(784, 1568), 5);
    expect(path5.length).toBe(5 * 784);
    const proj = model.project2d(x, small.labels?.subarray(0, 5));
    expect(proj.method).toBe('identity');
    expect(proj.points.length).toBe(10);
    expect(model.manifold(4).length).toBe(16 * 784);
    const fifty = {
      ...small,
      images: small.images.subarray(0, 50 * 784),
      labels: small.labels?.subarray(0, 50),
      count: 50,
    };
    const worst = await model.worst(fifty, 3);
    const { mse } = await model.metrics(fifty.images);
    expect(mse.length).toBe(50);
    const sorted = [...mse].sort((a, b) => b - a);
    expect(worst.map((w) => w.mse)).toEqual(sorted.slice(0, 3));
    expect(mse[worst[0].index]).toBe(sorted[0]);
    model.dispose();
  });

  it('refuses a manifold for codes that are not 2-D, and projects them with PCA', async () => {
    const dir = tmpRunDir('pca');
    await trainRun({ config: { ...dense, latentDim: 8, epochs: 1 }, dataset: small, runDir: dir });
    const model = await loadTrained(dir);
    expect(() => model.manifold(3)).toThrow(/2-D code/);
    const proj = model.project2d({
      ...small,
      images: small.images.subarray(0, 200 * 784),
      labels: small.labels?.subarray(0, 200),
      count: 200,
    });
    expect(proj.method).toBe('pca');
    expect(proj.points.length).toBe(400);
    expect(Array.from(proj.labels ?? [])).toEqual(Array.from(small.labels?.subarray(0, 200) ?? []));
    await expect(model.metrics({ images: new Uint8Array(32 * 32 * 3), count: 1, shape: [32, 32, 3] })).rejects.toThrow(
      /28×28×1/,
    );
    expect(proj.explained).toBeGreaterThan(0);
    expect(proj.explained).toBeLessThanOrEqual(1 + 1e-9);
    model.dispose();
  });
});

describe('metrics and PCA', () => {
  it('PSNR and SSIM of identical images, and known values', async () => {
    const a = tf.tidy(() => tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 1)) as tf.Tensor4D;
    const same = await imageMetrics(a, a);
    expect(same.mse).toEqual([0, 0]);
    expect(same.psnr).toEqual([Infinity, Infinity]);
    same.ssim.forEach((s) => expect(s).toBeCloseTo(1, 5));
    const b = tf.tidy(() => tf.clipByValue(tf.add(a, 0.1), 0, 1)) as tf.Tensor4D;
    const off = tf.fill([1, 16, 16, 1], 0.5) as tf.Tensor4D;
    const off2 = tf.fill([1, 16, 16, 1], 0.6) as tf.Tensor4D;
    const k = await imageMetrics(off, off2);
    expect(k.mse[0]).toBeCloseTo(0.01, 6);
    expect(k.psnr[0]).toBeCloseTo(20, 3); // 10·log10(1/0.01)
    // flat images: SSIM reduces to the luminance term (2·μa·μb + C1) / (μa² + μb² + C1)
    expect(k.ssim[0]).toBeCloseTo((2 * 0.5 * 0.6 + 1e-4) / (0.25 + 0.36 + 1e-4), 3); // ≈ 0.9836 (float32 variances are not exactly 0)
    const worse = await imageMetrics(a, b);
    expect(worse.ssim[0]).toBeLessThan(1);
    tf.dispose([a, b, off, off2]);
  });

  it('PCA finds the dominant direction', () => {
    // points spread along (1, 1, 0) with a little noise elsewhere
    const n = 500;
    const z = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const t = (i / n - 0.5) * 10;
      z.set([t + 0.01 * Math.sin(i), t - 0.01 * Math.cos(i), 0.05 * Math.sin(3 * i)], i * 3);
    }
    const { components, explained } = pca2(z, n, 3);
    expect(Math.abs(components[0][0])).toBeCloseTo(Math.SQRT1_2, 2);
    expect(Math.abs(components[0][1])).toBeCloseTo(Math.SQRT1_2, 2);
    expect(explained).toBeGreaterThan(0.99);
  });
});

describe('every model kind trains', () => {
  it.each([
    ['dense', {}],
    ['deep-dense', { hidden: [128, 64] }],
    ['sparse', { l1: 0.01 }],
    ['conv', { latentDim: 16 }],
    ['vae', { latentDim: 8, loss: 'bce' }],
    ['conv-vae', { latentDim: 8, loss: 'bce' }],
  ] as const)('%s: loss falls over 2 epochs, no NaN', async (kind, extra) => {
    const r = await trainRun({
      config: { ...dense, kind, epochs: 2, batchSize: 50, noise: { type: 'masking', level: 0.2 }, ...extra },
      dataset: mnist(1000),
      runDir: tmpRunDir(kind),
    });
    expect(r.status, r.message).toBe('completed');
    expect(r.history.loss.every(Number.isFinite)).toBe(true);
    expect(r.history.loss[1]).toBeLessThan(r.history.loss[0]);
  });

  it('the sparse penalty makes codes sparser than the plain dense AE', async () => {
    const meanAbsCode = async (kind: 'dense' | 'sparse') => {
      const dir = tmpRunDir(kind);
      await trainRun({ config: { ...dense, kind, latentDim: 64, epochs: 2, l1: 0.05 }, dataset: small, runDir: dir });
      const m = await loadTrained(dir);
      const z = m.encode(small.images.subarray(0, 200 * 784));
      m.dispose();
      return z.reduce((s, v) => s + Math.abs(v), 0) / z.length;
    };
    const plain = await meanAbsCode('dense');
    const sparse = await meanAbsCode('sparse');
    console.log(`mean |code|: dense ${plain.toFixed(4)}, sparse ${sparse.toFixed(4)}`);
    expect(sparse).toBeLessThan(0.5 * plain);
  });
});
