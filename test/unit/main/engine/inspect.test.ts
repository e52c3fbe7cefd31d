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
import { inspectTiled, tileOrigins, topMean } from '../../../../src-main/engine/inspect/tiles';
import type { MapSettings, NormStats } from '../../../../src-main/engine/inspect/maps';
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

  /** The maps and scores as tfjs ops compute them (maps.ts) on the model's reconstructions: the path before the inference graph made them. */
  function reference(model: TrainedModel, images: Uint8Array | Float32Array, s: MapSettings, norm?: NormStats) {
    const n = images.length / (16 * 16 * 3);
    const rec = model.reconstruct(images);
    const x = images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images;
    return tf.tidy(() => {
      const m = anomalyMaps(tf.tensor4d(x, [n, 16, 16, 3]), tf.tensor4d(rec, [n, 16, 16, 3]), s, norm);
      const sc = mapScores(m, s.topkPercent);
      return {
        maps: m.dataSync() as Float32Array,
        mean: sc.mean.dataSync(),
        max: sc.max.dataSync(),
        topk: sc.topk.dataSync(),
      };
    });
  }

  /** The tiled scoring as it was before the graph computed the tiles' maps: per-pixel counts and a full sort. */
  function referenceTiled(
    model: TrainedModel,
    picture: Uint8Array,
    h: number,
    w: number,
    s: MapSettings,
    norm: NormStats | undefined,
    overlap: number,
  ) {
    const t = 16;
    const c = 3;
    const stride = Math.max(1, Math.round(t * (1 - overlap)));
    const origins = tileOrigins(h, t, stride).flatMap((y) => tileOrigins(w, t, stride).map((x) => [y, x] as const));
    const tiles = new Uint8Array(origins.length * t * t * c);
    origins.forEach(([y0, x0], k) => {
      for (let y = 0; y < t; y++)
        tiles.set(picture.subarray(((y0 + y) * w + x0) * c, ((y0 + y) * w + x0 + t) * c), (k * t + y) * t * c);
    });
    const maps = reference(model, tiles, s, norm).maps;
    const sum = new Float32Array(h * w);
    const count = new Uint16Array(h * w);
    origins.forEach(([y0, x0], k) => {
      for (let y = 0; y < t; y++)
        for (let x = 0; x < t; x++) {
          sum[(y0 + y) * w + x0 + x] += maps[k * t * t + y * t + x];
          count[(y0 + y) * w + x0 + x]++;
        }
    });
    let total = 0;
    let max = -Infinity;
    for (let p = 0; p < h * w; p++) {
      sum[p] /= count[p];
      total += sum[p];
      max = Math.max(max, sum[p]);
    }
    const k = topkCount(h, w, s.topkPercent);
    const sorted = Float32Array.from(sum).sort();
    let top = 0;
    for (let i = sorted.length - k; i < sorted.length; i++) top += sorted[i];
    return { map: sum, mean: total / (h * w), max, topk: top / k };
  }

  /** Per-pixel statistics that vary over the picture (as a calibration gives them). */
  function someNorm(seed: number): NormStats {
    const rand = mulberry32(seed);
    const norm: NormStats = { h: 16, w: 16, mean: new Float32Array(256), std: new Float32Array(256) };
    for (let p = 0; p < 256; p++) {
      norm.mean[p] = 0.02 * rand();
      norm.std[p] = 0.001 + 0.02 * rand();
    }
    return norm;
  }

  it('computes the maps and scores inside the inference graph to the numbers tfjs ops give, for every map, smoothing and normalisation', () => {
    const model = new TrainedModel(buildAutoencoder(config), config, { mean: [], std: [] } as never);
    try {
      expect(model.inferencePath).toBe('graph');
      const u8 = Uint8Array.from(textures(5, 16, 16, 3, 11), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      const f32 = textures(5, 16, 16, 3, 12).map((v) => Math.min(1, Math.max(0, v)));
      const before = tf.memory().numTensors;
      for (const map of ['l2', 'ssim'] as const)
        for (const smoothSigma of [0, 1.5])
          for (const norm of [undefined, someNorm(3)])
            for (const images of [u8, f32]) {
              const s = { map, smoothSigma, topkPercent: 3 };
              const want = reference(model, images, s, norm);
              const got = inspectImages(model, images, s, norm, { batch: 3 });
              // the scale of the maps: differences are float32 rounding of it. The SSIM map's local
              // variances (E[x²] − μ², which cancel) come from a separable window in the graph, summed
              // in another order than tfjs's 2-D one: 1e-4 of the scale there, 1e-5 for L2.
              const scale = Math.max(1e-3, ...Array.from(want.maps, Math.abs));
              const tol = map === 'ssim' ? 1e-4 : 1e-5;
              for (let i = 0; i < want.maps.length; i++)
                expect(Math.abs(got.maps[i] - want.maps[i]) / scale).toBeLessThan(tol);
              for (let i = 0; i < 5; i++) {
                expect(Math.abs(got.scores.mean[i] - want.mean[i]) / scale).toBeLessThan(tol);
                expect(Math.abs(got.scores.max[i] - want.max[i]) / scale).toBeLessThan(tol);
                expect(Math.abs(got.scores.topk[i] - want.topk[i]) / scale).toBeLessThan(tol);
              }
            }
      expect(tf.memory().numTensors).toBe(before);
      // the graph ran every case (a graph that fails falls back to tfjs ops, and says why here)
      expect(model.graphRefusal).toBeUndefined();
      expect(model.inferencePath).toBe('graph');
      expect(() =>
        inspectImages(model, u8, { map: 'l2', smoothSigma: 1, topkPercent: 1 }, { ...someNorm(1), h: 8 }),
      ).toThrow(/measured on 8×16 maps/);
    } finally {
      model.dispose();
    }
  });

  it('scores tiles to the same map and scores as before the graph computed them (per-pixel counts, a full sort), at any overlap and batch', () => {
    const model = new TrainedModel(buildAutoencoder(config), config, { mean: [], std: [] } as never);
    try {
      const [h, w] = [37, 50];
      const big = Uint8Array.from(textures(1, h, w, 3, 21), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      const before = tf.memory().numTensors;
      for (const [s, norm] of [
        [{ map: 'l2', smoothSigma: 2, topkPercent: 1 }, someNorm(5)],
        [{ map: 'ssim', smoothSigma: 1, topkPercent: 5 }, undefined],
      ] as Array<[MapSettings, NormStats | undefined]>)
        for (const overlap of [0, 0.25, 0.5, 0.75])
          for (const batch of [undefined, 5]) {
            const want = referenceTiled(model, big, h, w, s, norm, overlap);
            const got = inspectTiled(model, big, h, w, s, norm, overlap, batch);
            const scale = Math.max(1e-3, ...Array.from(want.map, Math.abs));
            const tol = s.map === 'ssim' ? 1e-4 : 1e-5; // as above
            for (let p = 0; p < h * w; p++) expect(Math.abs(got.map[p] - want.map[p]) / scale).toBeLessThan(tol);
            expect(Math.abs(got.scores.mean - want.mean) / scale).toBeLessThan(tol);
            expect(Math.abs(got.scores.max - want.max) / scale).toBeLessThan(tol);
            expect(Math.abs(got.scores.topk - want.topk) / scale).toBeLessThan(tol);
          }
      expect(tf.memory().numTensors).toBe(before);
      expect(model.graphRefusal).toBeUndefined();
      expect(model.inferencePath).toBe('graph');
    } finally {
      model.dispose();
    }
  });

  it('scores tiles on tfjs layers (no inference graph) to the same numbers as on the graph', () => {
    const graphModel = new TrainedModel(buildAutoencoder(config), config, { mean: [], std: [] } as never);
    const prev = process.env.AE_INFER_GRAPH;
    process.env.AE_INFER_GRAPH = '0';
    const layersModel = new TrainedModel(graphModel.ae, config, { mean: [], std: [] } as never);
    try {
      expect(layersModel.inferencePath).toBe('layers');
      if (prev === undefined) delete process.env.AE_INFER_GRAPH;
      else process.env.AE_INFER_GRAPH = prev;
      expect(graphModel.inferencePath).toBe('graph');
      const [h, w] = [30, 41];
      const big = textures(1, h, w, 3, 31).map((v) => Math.min(1, Math.max(0, v)));
      const s: MapSettings = { map: 'l2', smoothSigma: 2, topkPercent: 2 };
      const norm = someNorm(8);
      const before = tf.memory().numTensors;
      const a = inspectTiled(layersModel, big, h, w, s, norm, 0.5);
      const b = inspectTiled(graphModel, big, h, w, s, norm, 0.5);
      expect(tf.memory().numTensors).toBe(before);
      const scale = Math.max(...Array.from(a.map, Math.abs));
      for (let p = 0; p < h * w; p++) expect(Math.abs(a.map[p] - b.map[p]) / scale).toBeLessThan(1e-5);
      expect(Math.abs(a.scores.topk - b.scores.topk) / scale).toBeLessThan(1e-5);
      expect(graphModel.graphRefusal).toBeUndefined();
    } finally {
      if (prev === undefined) delete process.env.AE_INFER_GRAPH;
      else process.env.AE_INFER_GRAPH = prev;
      graphModel.dispose();
    }
  });
});

describe('top-k mean by selection', () => {
  it('is the mean of the k largest values, summed as over a full sort, with ties, negatives and k from 1 to all', () => {
    const rand = mulberry32(4);
    for (const n of [1, 2, 7, 100, 5000]) {
      const v = Float32Array.from({ length: n }, () => (rand() < 0.3 ? 0.5 : rand() * 4 - 2));
      for (const k of [1, Math.ceil(n / 100), Math.ceil(n / 3), n]) {
        const sorted = Float32Array.from(v).sort();
        let s = 0;
        for (let i = n - k; i < n; i++) s += sorted[i];
        expect(topMean(v, k)).toBe(s / k);
      }
    }
  });
});
