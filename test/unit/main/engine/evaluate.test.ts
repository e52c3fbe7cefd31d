// What autoencoders are used for (src-main/engine/evaluate, the run options of train.ts), on real
// models trained on real MNIST digits: probes on the codes against pixel and PCA baselines, the
// reconstruction error of a digit class the model never saw as an anomaly score (ROC AUC), class-
// balanced sampling on a deliberately imbalanced subset, a test split, KL warm-up, and the full-
// covariance Gaussian plain autoencoders sample from. The pure pieces (eigen-decomposition, PCA,
// ROC) are checked against exact answers first.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import {
  cholesky,
  evaluateModel,
  fitLatentStats,
  fitPca,
  measureSplit,
  rocCurve,
  sampleCodes,
  scoresCsv,
  splitIndices,
  symEig,
  trainRun,
  type Dataset,
} from '../../../../src-main/engine';
import { loadTrained } from '../../../../src-main/engine/trained-model';
import { balancedOrder } from '../../../../src-main/engine/data';
import { mnist, tmpRunDir } from './helpers';
import { openDataset, writeDataset } from '../../../../src-main/datasets/store';

describe('pure pieces', () => {
  it('symEig: A·v = λ·v for a random symmetric matrix, eigenvalues descending', () => {
    const k = 12;
    const a = new Float64Array(k * k);
    let s = 1;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) a[i * k + j] = a[j * k + i] = rnd();
    const { values, vectors } = symEig(a, k);
    for (let c = 0; c < k; c++) {
      for (let r = 0; r < k; r++) {
        let av = 0;
        for (let j = 0; j < k; j++) av += a[r * k + j] * vectors[j * k + c];
        expect(Math.abs(av - values[c] * vectors[r * k + c])).toBeLessThan(1e-9);
      }
      if (c) expect(values[c]).toBeLessThanOrEqual(values[c - 1]);
    }
  });

  it('PCA by subspace iteration finds the top eigenvalues of the full covariance', () => {
    const before = tf.memory().numTensors;
    const n = 400;
    const d = 20;
    // data with a clear spectrum: column j scaled by 1/(1+j), then rotated
    const x = tf.tidy(
      () =>
        tf.matMul(
          tf.mul(tf.randomNormal([n, d], 0, 1, 'float32', 3), tf.div(1, tf.add(1, tf.range(0, d)))),
          tf.linalg.qr(tf.randomNormal([d, d], 0, 1, 'float32', 4))[0],
        ) as tf.Tensor2D,
    );
    const pca = fitPca(x, 4, 30);
    const cov = tf.tidy(() => {
      const xc = tf.sub(x, tf.mean(x, 0));
      return tf.div(tf.matMul(xc, xc, true, false), n - 1);
    });
    const exact = symEig(Float64Array.from(cov.dataSync()), d).values;
    pca.variances.forEach((v, i) => expect(Math.abs(v - exact[i]) / exact[i]).toBeLessThan(1e-3));
    const total = exact.reduce((a, b) => a + b, 0);
    expect(pca.explained).toBeCloseTo((exact[0] + exact[1] + exact[2] + exact[3]) / total, 3);
    tf.dispose([x, cov]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ROC and AUC: a hand-checked case with ties', () => {
    // anomalies 0.9, 0.5(tie with a normal), 0.3; normals 0.5, 0.2, 0.1
    const roc = rocCurve([0.9, 0.5, 0.3, 0.5, 0.2, 0.1], [true, true, true, false, false, false]);
    // pairs (pos > neg): 0.9 beats 3; 0.5 beats 2 and ties 1; 0.3 beats 2 → (3 + 2.5 + 2) / 9
    expect(roc.auc).toBeCloseTo(7.5 / 9, 12);
    expect(roc.points.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [0, 1 / 3],
      [1 / 3, 2 / 3],
      [1 / 3, 1],
      [2 / 3, 1],
      [1, 1],
    ]);
    expect(() => rocCurve([1, 2], [true, true])).toThrow(/both anomalous and normal/);
  });

  it('Cholesky: L·Lᵀ gives the matrix back', () => {
    const a = Float64Array.from([4, 2, 0.6, 2, 2, 0.5, 0.6, 0.5, 3]);
    const L = cholesky(a, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += L[i * 3 + k] * L[j * 3 + k];
        expect(s).toBeCloseTo(a[i * 3 + j], 5);
      }
  });

  it('balanced order: every label drawn about equally often, however rare', () => {
    const labels = Int32Array.from({ length: 1000 }, (_, i) => (i < 20 ? 1 : 0)); // 2 % label 1
    const order = balancedOrder(labels, 5);
    const ones = order.filter((i) => labels[i] === 1).length;
    expect(ones / order.length).toBeGreaterThan(0.45);
    expect(ones / order.length).toBeLessThan(0.55);
  });
});

describe('on real MNIST', () => {
  const ds = mnist(5000);

  it('probes: codes of a 32-d dense AE beat chance by a wide margin, next to pixel and PCA baselines; test split and per-label errors', async () => {
    const dir = tmpRunDir('eval-probes');
    const r = await trainRun({
      config: {
        kind: 'dense',
        inputShape: [28, 28, 1],
        latentDim: 32,
        epochs: 3,
        batchSize: 64,
        validationSplit: 0.2,
        testSplit: 0.1,
      },
      dataset: ds,
      runDir: dir,
    });
    expect(r.status, r.message).toBe('completed');
    // end-of-run metrics on train, validation and the test split (kept apart from both)
    const m = r.metrics!;
    expect(m.val!.count).toBe(1000);
    expect(m.test!.count).toBe(500);
    expect(m.test!.mse).toBeGreaterThan(0);
    expect(Math.abs(m.test!.mse - m.val!.mse) / m.val!.mse).toBeLessThan(0.25);
    expect(m.test!.perLabel!.reduce((a, l) => a + l.count, 0)).toBe(500);
    expect(m.trainLabelCounts!.reduce((a, l) => a + l.count, 0)).toBe(3500);
    const split = splitIndices(5000, 0.2, 42, 0.1);
    const seen = new Set(split.train);
    expect([...split.test].some((i) => seen.has(i)) || [...split.val].some((i) => split.test.includes(i))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'model', 'report.json'), 'utf8')).metrics.test.count).toBe(500);

    const trained = await loadTrained(dir);
    const before = tf.memory().numTensors;
    const e = await evaluateModel(trained.ae, trained.config, ds);
    expect(tf.memory().numTensors).toBe(before);
    trained.dispose();
    const p = e.probes!;
    console.log(
      `probes (train ${p.trainRows}, held out ${p.testRows}): linear codes ${p.linear.codes.accuracy.toFixed(3)} pixels ${p.linear.pixels.accuracy.toFixed(3)} PCA ${p.linear.pca.accuracy.toFixed(3)}; ` +
        `kNN codes ${p.knn.codes.accuracy.toFixed(3)} pixels ${p.knn.pixels.accuracy.toFixed(3)} PCA ${p.knn.pca.accuracy.toFixed(3)}; PCA keeps ${p.pcaExplained.toFixed(3)}`,
    );
    expect(p.dims).toEqual({ codes: 32, pixels: 784, pca: 32 });
    expect(p.labels).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const f of ['codes', 'pixels', 'pca'] as const) {
      expect(p.linear[f].accuracy, `linear ${f}`).toBeGreaterThan(0.75); // chance is 0.1
      expect(p.knn[f].accuracy, `kNN ${f}`).toBeGreaterThan(0.75);
      // the confusion matrix counts every held-out row once; per-class accuracy is its diagonal
      expect(p.linear[f].confusion.flat().reduce((a, b) => a + b, 0)).toBe(p.testRows);
      p.linear[f].perClass.forEach((acc, c) =>
        expect(acc).toBeCloseTo(p.linear[f].confusion[c][c] / p.linear[f].confusion[c].reduce((a, b) => a + b, 0), 12),
      );
    }
    // held out = validation + test; every label counted
    expect(e.counts).toEqual({ total: 5000, train: 3500, scored: 1500 });
    expect(e.perLabel.reduce((a, l) => a + l.total, 0)).toBe(5000);
    expect(e.perLabel.find((l) => l.label === 1)!.mse).toBeLessThan(e.reconstruction.mse); // ones are the easiest digit
    expect(e.reconstruction.psnr).toBeGreaterThan(10);
    expect(e.histogram.perLabel.reduce((a, l) => a + l.counts.reduce((x, y) => x + y, 0), 0)).toBe(1500);
    expect(e.scores[0].mse).toBeGreaterThanOrEqual(e.scores[e.scores.length - 1].mse);
  });

  it('anomalies: trained on every digit but 2, the 2s reconstruct worse (ROC AUC well above 0.5)', async () => {
    const dir = tmpRunDir('eval-anomaly');
    const r = await trainRun({
      config: {
        kind: 'dense',
        inputShape: [28, 28, 1],
        latentDim: 32,
        epochs: 3,
        batchSize: 64,
        validationSplit: 0.2,
        excludeLabels: [2],
      },
      dataset: ds,
      runDir: dir,
    });
    expect(r.status, r.message).toBe('completed');
    expect(r.metrics!.trainLabelCounts!.map((l) => l.label)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9]);
    const trained = await loadTrained(dir);
    const e = await evaluateModel(trained.ae, trained.config, ds, { anomalous: [2] });
    trained.dispose();
    const a = e.anomaly!;
    console.log(
      `anomaly AUC (digit 2 never trained on): ${a.auc.toFixed(4)}, ${a.positives} anomalous vs ${a.negatives} normal`,
    );
    // the scored images: the held-out fifth, plus the training split's 2s (never trained on)
    const twos = Array.from(ds.labels!).filter((l) => l === 2).length;
    expect(a.positives).toBe(twos);
    expect(a.auc).toBeGreaterThan(0.7);
    expect(a.roc[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(a.roc[a.roc.length - 1]).toMatchObject({ fpr: 1, tpr: 1 });
    const csv = scoresCsv(e).trim().split('\n');
    expect(csv[0]).toBe('index,label,mse,anomalous');
    expect(csv.length - 1).toBe(e.counts.scored);
    expect(csv.slice(1).filter((l) => l.endsWith(',1')).length).toBe(twos);
    await expect(evaluateModel((await loadTrained(dir)).ae, trained.config, ds, { anomalous: [12] })).rejects.toThrow(
      /has no label 12/,
    );
  });

  it('the same evaluation from a dataset streamed from its file, and on tfjs layers instead of the inference graph', async () => {
    const dir = tmpRunDir('eval-stream');
    const small = mnist(1200);
    const r = await trainRun({
      config: {
        kind: 'conv',
        inputShape: [28, 28, 1],
        latentDim: 8,
        hidden: [8, 16],
        epochs: 1,
        batchSize: 64,
        validationSplit: 0.3,
      },
      dataset: small,
      runDir: dir,
    });
    expect(r.status, r.message).toBe('completed');
    const trained = await loadTrained(dir);
    const opts = { anomalous: [2], probeTrainMax: 400, probeTestMax: 200 };
    const ws = tmpRunDir('eval-stream-ws');
    const labelNames = Array.from({ length: 10 }, (_, i) => String(i));
    const m = await writeDataset(
      ws,
      'digits',
      {
        images: small.images as Uint8Array,
        labels: Int32Array.from(small.labels!),
        labelNames,
        shape: [28, 28, 1],
        count: small.count,
      },
      { kind: 'import', paths: [] },
    );
    const streamed = openDataset(ws, m.id, 0); // 0: stream whatever its size
    expect(streamed.images instanceof Uint8Array).toBe(false);
    const before = tf.memory().numTensors;
    const fromFile = await evaluateModel(trained.ae, trained.config, streamed, opts);
    streamed.close();
    expect(tf.memory().numTensors).toBe(before);
    process.env.AE_INFER_GRAPH = '0';
    const onLayers = await evaluateModel(trained.ae, trained.config, small, opts);
    delete process.env.AE_INFER_GRAPH;
    trained.dispose();
    expect(fromFile.counts).toEqual(onLayers.counts);
    const byIndex = new Map(onLayers.scores.map((s) => [s.index, s.mse]));
    for (const s of fromFile.scores) expect(Math.abs(s.mse - byIndex.get(s.index)!)).toBeLessThan(1e-6);
    expect(Math.abs(fromFile.reconstruction.ssim - onLayers.reconstruction.ssim)).toBeLessThan(1e-5);
    expect(Math.abs(fromFile.reconstruction.psnr - onLayers.reconstruction.psnr)).toBeLessThan(1e-3);
    expect(Math.abs(fromFile.anomaly!.auc - onLayers.anomaly!.auc)).toBeLessThan(1e-3);
    expect(Math.abs(fromFile.probes!.linear.codes.accuracy - onLayers.probes!.linear.codes.accuracy)).toBeLessThan(
      0.02,
    );
  });

  it("balance classes: on a subset with only 20 sevens, balanced sampling lowers the sevens' error on held-out digits", async () => {
    const all = mnist(10_000);
    const keep: number[] = [];
    let sevens = 0;
    for (let i = 0; i < 6000; i++) if (all.labels![i] !== 7 || sevens++ < 20) keep.push(i);
    const pick = (idx: number[]): Dataset => {
      const images = new Uint8Array(idx.length * 784);
      idx.forEach((s, k) => images.set(all.images.subarray(s * 784, s * 784 + 784) as Uint8Array, k * 784));
      return { images, labels: Uint8Array.from(idx, (s) => all.labels![s]), count: idx.length, shape: [28, 28, 1] };
    };
    const imbalanced = pick(keep);
    const heldOut = pick(Array.from({ length: 2000 }, (_, i) => 8000 + i));
    const sevenError = async (balanceClasses: boolean) => {
      const dir = tmpRunDir('eval-balance');
      const r = await trainRun({
        config: {
          kind: 'dense',
          inputShape: [28, 28, 1],
          latentDim: 16,
          epochs: 3,
          batchSize: 64,
          validationSplit: 0,
          balanceClasses,
        },
        dataset: imbalanced,
        runDir: dir,
      });
      expect(r.status, r.message).toBe('completed');
      expect(r.metrics!.trainLabelCounts!.find((l) => l.label === 7)!.count).toBe(20);
      const trained = await loadTrained(dir);
      const m = await measureSplit(
        trained.ae,
        trained.config,
        heldOut,
        Int32Array.from({ length: heldOut.count }, (_, i) => i),
      );
      trained.dispose();
      return { seven: m.perLabel!.find((l) => l.label === 7)!.mse, all: m.mse };
    };
    const plain = await sevenError(false);
    const balanced = await sevenError(true);
    console.log(
      `error on held-out 7s: plain ${plain.seven.toFixed(4)} (all digits ${plain.all.toFixed(4)}), balanced ${balanced.seven.toFixed(4)} (all ${balanced.all.toFixed(4)})`,
    );
    expect(balanced.seven).toBeLessThan(plain.seven * 0.95);
    expect(balanced.seven / balanced.all).toBeLessThan(plain.seven / plain.all);
  });

  it('refuses in plain words what labels cannot do: balancing or leaving out labels without labels, leaving out everything', async () => {
    const unlabelled = { ...mnist(300), labels: undefined };
    const before = tf.memory().numTensors;
    const a = await trainRun({
      config: { kind: 'dense', inputShape: [28, 28, 1], latentDim: 8, epochs: 1, batchSize: 50, balanceClasses: true },
      dataset: unlabelled,
      runDir: tmpRunDir('no-labels'),
    });
    expect(a).toMatchObject({
      status: 'failed',
      message: expect.stringContaining('This dataset has no labels, so the run cannot balance classes'),
    });
    const b = await trainRun({
      config: {
        kind: 'dense',
        inputShape: [28, 28, 1],
        latentDim: 8,
        epochs: 1,
        batchSize: 50,
        excludeLabels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      },
      dataset: mnist(300),
      runDir: tmpRunDir('all-out'),
    });
    expect(b).toMatchObject({
      status: 'failed',
      message: 'Leaving out labels 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 leaves no image to train on.',
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('KL warm-up: the first epoch trains with β = 0, later ones with more', async () => {
    const small = mnist(600);
    const config = {
      kind: 'vae',
      inputShape: [28, 28, 1],
      latentDim: 2,
      hidden: [64],
      loss: 'bce',
      epochs: 2,
      batchSize: 50,
      seed: 5,
      beta: 4,
    } as const;
    const warm = await trainRun({
      config: { ...config, klWarmupEpochs: 2 },
      dataset: small,
      runDir: tmpRunDir('kl-warm'),
    });
    const zero = await trainRun({ config: { ...config, beta: 0 }, dataset: small, runDir: tmpRunDir('kl-zero') });
    const full = await trainRun({ config, dataset: small, runDir: tmpRunDir('kl-full') });
    expect(warm.history.loss[0]).toBeCloseTo(zero.history.loss[0], 5);
    expect(warm.history.loss[0]).toBeLessThan(full.history.loss[0]);
    expect(warm.history.loss[1]).not.toBeCloseTo(zero.history.loss[1], 4);
  });

  it("sampling: the Gaussian fitted to a plain AE's codes has their full covariance", async () => {
    const dir = tmpRunDir('eval-cov');
    await trainRun({
      config: { kind: 'dense', inputShape: [28, 28, 1], latentDim: 8, epochs: 2, batchSize: 64 },
      dataset: mnist(2000),
      runDir: dir,
    });
    const trained = await loadTrained(dir);
    const x = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(mnist(2000).images), [2000, 28, 28, 1]), 255));
    const stats = await fitLatentStats(trained.ae, x);
    expect(stats.chol).toHaveLength(64);
    const codes = tf.tidy(() => trained.ae.encoder.predict(x) as tf.Tensor2D);
    const covOf = (z: tf.Tensor2D) =>
      tf.tidy(() => {
        const zc = tf.sub(z, tf.mean(z, 0));
        return Array.from(tf.div(tf.matMul(zc, zc, true, false), z.shape[0]).dataSync());
      });
    const want = covOf(codes);
    const samples = tf.tidy(() => sampleCodes(stats, tf.randomNormal([20_000, 8], 0, 1, 'float32', 9) as tf.Tensor2D));
    const got = covOf(samples);
    const scale = Math.max(...want.map(Math.abs));
    // off-diagonal correlations are kept (a diagonal Gaussian would put 0 there)
    const offDiag = want.map((v, i) => (i % 9 === 0 ? 0 : Math.abs(v))).reduce((a, b) => Math.max(a, b), 0);
    expect(offDiag / scale).toBeGreaterThan(0.05);
    want.forEach((v, i) => expect(Math.abs(got[i] - v) / scale).toBeLessThan(0.05));
    const s = trained.sample(4, 3);
    expect(s.length).toBe(4 * 784);
    tf.dispose([x, codes, samples]);
    trained.dispose();
  });
});
