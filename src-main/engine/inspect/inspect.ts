// Inspection of pictures with a trained model, in batches: each batch is reconstructed through the
// model's own reconstruct (trained-model.ts), its anomaly maps and scores are computed (maps.ts) and
// read back, and every tensor of the batch is freed before the next — tf.memory().numTensors is
// the same before and after (tested).
import { tf } from '../tf';
import { evalBatchSize } from '../data';
import type { Images, TrainedModel } from '../trained-model';
import { anomalyMaps, mapScores, normEpsilon, type MapSettings, type NormStats, type ScoreKind } from './maps';

export interface InspectResult {
  count: number;
  h: number;
  w: number;
  /** N·H·W final maps (smoothed, normalised when stats were given); empty when `keepMaps` is false. */
  maps: Float32Array;
  scores: Record<ScoreKind, Float64Array>;
}

export interface InspectOptions {
  /** Keep every map (N·H·W floats); false keeps only the scores (and `onBatch` sees the maps). */
  keepMaps?: boolean;
  /** Images per batch (default: about 2 MB of pixels, as every forward-only pass). */
  batch?: number;
  /** Each batch's first image index and its maps (valid only during the call). */
  onBatch?: (first: number, maps: Float32Array) => void;
}

/** Inspects `images` (N·H·W·C, uint8 or floats in [0,1]) with the model. */
export function inspectImages(
  model: TrainedModel,
  images: Images,
  s: MapSettings,
  norm?: NormStats,
  o: InspectOptions = {},
): InspectResult {
  const [h, w, c] = model.config.inputShape;
  const per = h * w * c;
  const n = images.length / per;
  if (!Number.isInteger(n))
    throw new Error(`expected a multiple of ${per} pixel values (${h}×${w}×${c} images), got ${images.length}`);
  const batch = o.batch ?? evalBatchSize(model.config.inputShape, 64);
  const keep = o.keepMaps ?? true;
  const maps = new Float32Array(keep ? n * h * w : 0);
  const scores = { mean: new Float64Array(n), max: new Float64Array(n), topk: new Float64Array(n) };
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const chunk = images.subarray(i * per, (i + m) * per);
    const rec = model.reconstruct(chunk);
    const x = chunk instanceof Uint8Array ? Float32Array.from(chunk, (v) => v / 255) : chunk;
    const out = tf.tidy(() => {
      const xt = tf.tensor4d(x, [m, h, w, c]);
      const rt = tf.tensor4d(rec, [m, h, w, c]);
      const mp = anomalyMaps(xt, rt, s, norm);
      return { mp, ...mapScores(mp, s.topkPercent) };
    });
    try {
      const mv = out.mp.dataSync() as Float32Array;
      if (keep) maps.set(mv, i * h * w);
      o.onBatch?.(i, mv);
      for (const k of ['mean', 'max', 'topk'] as const) scores[k].set(out[k].dataSync(), i);
    } finally {
      tf.dispose([out.mp, out.mean, out.max, out.topk]);
    }
  }
  return { count: n, h, w, maps, scores };
}

/**
 * The per-pixel mean and spread (standard deviation) of the un-normalised maps of good images
 * (the good validation images the model never trained on), for {@link anomalyMaps}'s normalisation.
 */
export function fitNormStats(model: TrainedModel, good: Images, s: MapSettings): NormStats {
  const [h, w] = model.config.inputShape;
  const sum = new Float64Array(h * w);
  const sq = new Float64Array(h * w);
  let n = 0;
  inspectImages(model, good, s, undefined, {
    keepMaps: false,
    onBatch: (_first, mv) => {
      for (let k = 0; k < mv.length; k++) {
        const p = k % (h * w);
        sum[p] += mv[k];
        sq[p] += mv[k] * mv[k];
      }
      n += mv.length / (h * w);
    },
  });
  if (n < 2) throw new Error('The normalisation needs at least two good images (the validation split is too small).');
  const mean = new Float32Array(h * w);
  const std = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    mean[p] = sum[p] / n;
    std[p] = Math.sqrt(Math.max(0, (sq[p] - (sum[p] * sum[p]) / n) / (n - 1)));
  }
  return { h, w, mean, std };
}

export { normEpsilon };
