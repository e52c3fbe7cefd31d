// Anomaly maps and image scores (src-main/engine/inspect): what each map measures, that the SSIM map
// agrees with the studio's SSIM metric, smoothing, normalisation, the three scores, batching, and
// that no tensor is left behind.
import { describe, expect, it } from 'vitest';
import { buildAutoencoder, ssimPerImage, TrainedModel, validateConfig } from '../../../../src-main/engine';
import { tf } from '../../../../src-main/engine/tf';
import {
  anomalyMaps,
  mapScores,
  rawMap,
  smoothMaps,
  ssimMap,
  topkCount,
} from '../../../../src-main/engine/inspect/maps';
import { fitNormStats, inspectImages } from '../../../../src-main/engine/inspect/inspect';
import { inspectTiled, tileOrigins } from '../../../../src-main/engine/inspect/tiles';
import { mulberry32 } from '../../../../src-main/engine/rng';

/** n textured h × w × c pictures in [0,1] (a seeded sum of stripes and noise). */
function textures(n: number, h: number, w: number, c: number, seed = 1): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) {
    const f = 0.3 + rand();
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++)
          out[((i * h + y) * w + x) * c + k] = 0.5 + 0.3 * Math.sin(f * x + 0.7 * y + k) + 0.1 * (rand() - 0.5);
  }
  return out;
}

describe('anomaly maps', () => {
  it('squared error is the channel mean of the squared difference; identical images give zero maps', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const a = tf.tensor4d(textures(2, 12, 10, 3), [2, 12, 10, 3]);
      const b = tf.tensor4d(textures(2, 12, 10, 3, 2), [2, 12, 10, 3]);
      const l2 = rawMap(a, b, 'l2');
      const manual = tf.mean(tf.square(tf.sub(a, b)), 3);
      expect(tf.max(tf.abs(tf.sub(l2, manual))).dataSync()[0]).toBeLessThan(1e-7);
      expect(tf.max(tf.abs(rawMap(a, a, 'ssim'))).dataSync()[0]).toBeLessThan(1e-5);
      expect(tf.max(rawMap(a, a, 'l2')).dataSync()[0]).toBe(0);
      expect(tf.max(rawMap(a, b, 'ssim')).dataSync()[0]).toBeGreaterThan(0.05);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the SSIM map, away from the reflected borders, averages to the studio SSIM metric', () => {
    const [n, h, w, c] = [3, 24, 20, 3];
    const a = tf.tensor4d(textures(n, h, w, c), [n, h, w, c]);
    const b = tf.tensor4d(textures(n, h, w, c, 5), [n, h, w, c]);
    const m = ssimMap(a, b);
    const inner = tf.mean(m.slice([0, 5, 5, 0], [n, h - 10, w - 10, c]), [1, 2, 3]).dataSync();
    const metric = ssimPerImage(a, b).dataSync();
    for (let i = 0; i < n; i++) expect(Math.abs(inner[i] - metric[i])).toBeLessThan(1e-5);
    tf.dispose([a, b, m]);
  });

  it('finds a drawn defect where it is: the smoothed map peaks inside the patch', () => {
    const [h, w, c] = [32, 32, 1];
    const x = textures(1, h, w, c, 3);
    const rec = x.slice();
    for (let y = 10; y < 16; y++) for (let xx = 18; xx < 24; xx++) rec[y * w + xx] = 0.5; // the model "smoothed away" a patch
    const xt = tf.tensor4d(x, [1, h, w, c]);
    const rt = tf.tensor4d(rec, [1, h, w, c]);
    for (const kind of ['l2', 'ssim'] as const) {
      const m = anomalyMaps(xt, rt, { map: kind, smoothSigma: 2, topkPercent: 1 });
      const v = m.dataSync();
      let at = 0;
      for (let p = 1; p < v.length; p++) if (v[p] > v[at]) at = p;
      const [py, px] = [Math.floor(at / w), at % w];
      expect(py, kind).toBeGreaterThanOrEqual(8);
      expect(py, kind).toBeLessThan(18);
      expect(px, kind).toBeGreaterThanOrEqual(16);
      expect(px, kind).toBeLessThan(26);
      m.dispose();
    }
    tf.dispose([xt, rt]);
  });

  it('smoothing keeps a constant map and spreads a spike; the scores are mean, max and mean of the top k %', () => {
    const flat = tf.fill([1, 9, 9], 0.25) as tf.Tensor3D;
    const s = smoothMaps(flat, 1.5);
    expect(tf.max(tf.abs(tf.sub(s, 0.25))).dataSync()[0]).toBeLessThan(1e-6);
    const spike = tf.buffer([1, 9, 9], 'float32');
    spike.set(1, 0, 4, 4);
    const sp = smoothMaps(spike.toTensor() as tf.Tensor3D, 1);
    const v = sp.dataSync() as Float32Array;
    expect(v[4 * 9 + 4]).toBeLessThan(1);
    expect(v[4 * 9 + 5]).toBeGreaterThan(0);
    expect(v.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);

    const values = Array.from({ length: 100 }, (_, i) => i / 100);
    const m = tf.tensor3d(values, [1, 10, 10]);
    const sc = mapScores(m, 5);
    expect(topkCount(10, 10, 5)).toBe(5);
    expect(sc.mean.dataSync()[0]).toBeCloseTo(0.495, 6);
    expect(sc.max.dataSync()[0]).toBeCloseTo(0.99, 6);
    expect(sc.topk.dataSync()[0]).toBeCloseTo((0.95 + 0.96 + 0.97 + 0.98 + 0.99) / 5, 6);
    tf.dispose([flat, s, sp, m, sc.mean, sc.max, sc.topk]);
  });
});

describe('inspecting pictures with a model', () => {
  const checked = validateConfig(
    { kind: 'conv', inputShape: [16, 16, 3], latentDim: 8, hidden: [8, 8], epochs: 1, batchSize: 16 },
    { count: 100, shape: [16, 16, 3] },
  );
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  const config = checked.config;

  it('gives the same maps and scores whatever the batch, normalises by good maps, and leaves no tensor behind', () => {
    const model = new TrainedModel(buildAutoencoder(config), config, { mean: [], std: [] } as never);
    try {
      const good = Uint8Array.from(textures(12, 16, 16, 3, 7), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      const suspects = Uint8Array.from(textures(7, 16, 16, 3, 9), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      const settings = { map: 'ssim' as const, smoothSigma: 1, topkPercent: 2 };
      const before = tf.memory().numTensors;
      const norm = fitNormStats(model, good, settings);
      const a = inspectImages(model, suspects, settings, norm, { batch: 3 });
      const b = inspectImages(model, suspects, settings, norm, { batch: 64 });
      expect(tf.memory().numTensors).toBe(before);
      expect(a.count).toBe(7);
      expect(a.maps.length).toBe(7 * 16 * 16);
      for (let i = 0; i < a.maps.length; i++) expect(Math.abs(a.maps[i] - b.maps[i])).toBeLessThan(1e-4);
      for (const k of ['mean', 'max', 'topk'] as const)
        for (let i = 0; i < 7; i++) expect(Math.abs(a.scores[k][i] - b.scores[k][i])).toBeLessThan(1e-4);
      // the good images' own normalised maps average to ~0 at every pixel
      const g = inspectImages(model, good, settings, norm);
      let worst = 0;
      for (let p = 0; p < 16 * 16; p++) {
        let s = 0;
        for (let i = 0; i < 12; i++) s += g.maps[i * 256 + p];
        worst = Math.max(worst, Math.abs(s / 12));
      }
      expect(worst).toBeLessThan(1e-3);
      // max ≥ top-k mean ≥ mean, image by image
      for (let i = 0; i < 7; i++) {
        expect(a.scores.max[i]).toBeGreaterThanOrEqual(a.scores.topk[i] - 1e-9);
        expect(a.scores.topk[i]).toBeGreaterThanOrEqual(a.scores.mean[i] - 1e-9);
      }
      expect(() => inspectImages(model, new Uint8Array(10), settings)).toThrow(/multiple of 768/);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it('scores a big picture by overlapping tiles: a picture of the model size is one tile and the same map; a bigger one is covered, in flat memory', () => {
    expect(tileOrigins(40, 16, 8)).toEqual([0, 8, 16, 24]);
    expect(tileOrigins(41, 16, 8)).toEqual([0, 8, 16, 24, 25]);
    expect(tileOrigins(16, 16, 8)).toEqual([0]);
    const model = new TrainedModel(buildAutoencoder(config), config, { mean: [], std: [] } as never);
    try {
      const settings = { map: 'l2' as const, smoothSigma: 1, topkPercent: 5 };
      const one = Uint8Array.from(textures(1, 16, 16, 3, 4), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      const before = tf.memory().numTensors;
      const direct = inspectImages(model, one, settings);
      const tiled = inspectTiled(model, one, 16, 16, settings);
      expect(tiled.tiles).toBe(1);
      for (let p = 0; p < 256; p++) expect(Math.abs(tiled.map[p] - direct.maps[p])).toBeLessThan(1e-6);
      expect(tiled.scores.topk).toBeCloseTo(direct.scores.topk[0], 5);
      const [h, w] = [37, 50];
      const big = Uint8Array.from(textures(1, h, w, 3, 6), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      const r = inspectTiled(model, big, h, w, settings, undefined, 0.5, 4);
      expect(r.map.length).toBe(h * w);
      expect(r.map.every(Number.isFinite)).toBe(true);
      expect(r.tiles).toBe(tileOrigins(h, 16, 8).length * tileOrigins(w, 16, 8).length);
      expect(r.scores.max).toBeGreaterThanOrEqual(r.scores.topk);
      expect(r.scores.topk).toBeGreaterThanOrEqual(r.scores.mean);
      expect(tf.memory().numTensors).toBe(before);
      expect(() => inspectTiled(model, big.subarray(0, 10 * 10 * 3), 10, 10, settings)).toThrow(
        /at least the model's 16×16/,
      );
    } finally {
      model.dispose();
    }
  });
});
