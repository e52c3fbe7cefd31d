// Inspection of pictures with a trained model, in batches. Where the model has the inference graph
// (fast/infer.ts), the maps and scores are computed inside it, in the same run as the
// reconstruction (uint8 pixels go in as they are); otherwise each batch is reconstructed through
// the model's own reconstruct (trained-model.ts), its anomaly maps and scores are computed with
// tfjs ops (maps.ts) and read back. Both give the same numbers up to float rounding (tested), and
// every tensor of a batch is freed before the next — tf.memory().numTensors is the same before and
// after (tested).
import { tf } from '../tf';
import { evalBatchSize } from '../data';
import type { Images, TrainedModel } from '../trained-model';
import type { InspectSpec } from '../fast/infer';
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
  /** Images per batch (default: the inference graph's chunk, or about 2 MB of pixels on tfjs's layers). */
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
  const keep = o.keepMaps ?? true;
  const maps = new Float32Array(keep ? n * h * w : 0);
  const scores = { mean: new Float64Array(n), max: new Float64Array(n), topk: new Float64Array(n) };
  const spec = inspectSpec(model, s, norm);
  const onGraph = model.inferencePath === 'graph';
  const batch = o.batch ?? (onGraph ? model.inferChunk : evalBatchSize(model.config.inputShape, 64));
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const chunk = images.subarray(i * per, (i + m) * per);
    const g = onGraph ? model.inspectOnGraph(chunk, spec, { amap: keep || !!o.onBatch, scores: true }) : undefined;
    if (g) {
      if (g.amap) {
        if (keep) maps.set(g.amap, i * h * w);
        o.onBatch?.(i, g.amap);
      }
      scores.mean.set(g.amapMean!, i);
      scores.max.set(g.amapMax!, i);
      scores.topk.set(g.amapTopk!, i);
      continue;
    }
    const rec = model.reconstruct(chunk);
    const x = chunk instanceof Uint8Array ? toFloat(chunk) : chunk;
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

/** uint8 pixels as floats in [0,1] (a plain loop: `Float32Array.from` with a function is many times slower). */
function toFloat(u: Uint8Array): Float32Array {
  const f = new Float32Array(u.length);
  for (let i = 0; i < u.length; i++) f[i] = u[i] / 255;
  return f;
}

/** The settings and statistics as the inference graph takes them (after checking the statistics fit the model). */
export function inspectSpec(model: TrainedModel, s: MapSettings, norm?: NormStats): InspectSpec {
  const [h, w] = model.config.inputShape;
  if (norm && (norm.h !== h || norm.w !== w))
    throw new Error(`The normalisation was measured on ${norm.h}×${norm.w} maps; these maps are ${h}×${w}.`);
  return {
    map: s.map,
    smoothSigma: s.smoothSigma,
    topkPercent: s.topkPercent,
    ...(norm ? { norm: { mean: norm.mean, std: norm.std, eps: normEpsilon(norm.std) } } : {}),
  };
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
