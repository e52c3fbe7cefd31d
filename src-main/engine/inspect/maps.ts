// Anomaly maps and image scores, as tensors (callers dispose what they get; everything inside is tidied).
//  - squared error: the per-pixel squared difference, averaged over the channels;
//  - 1 − SSIM: the local SSIM (Wang et al. 2004: 11×11 Gaussian window, σ = 1.5, K1 = 0.01,
//    K2 = 0.03) per channel, averaged over the channels, with the image reflected at its borders so
//    the map has the image's size;
//  - optional Gaussian smoothing (σ in pixels), also with reflected borders;
//  - optional normalisation by the per-pixel mean and spread of good images' maps: (m − μ)/(σ + ε),
//    ε a tenth of the mean σ, so regions that always reconstruct poorly stop dominating and a pixel
//    that never varies cannot blow up.
// Image scores: the map's mean, its maximum and the mean of its top k % pixels.
import { tf } from '../tf';
import { gaussianWindow, ssimWith } from '../metrics';

export const MAP_KINDS = ['l2', 'ssim'] as const;
export type MapKind = (typeof MAP_KINDS)[number];
export const SCORE_KINDS = ['mean', 'max', 'topk'] as const;
export type ScoreKind = (typeof SCORE_KINDS)[number];

export interface MapSettings {
  map: MapKind;
  /** Gaussian smoothing of the map, σ in pixels; 0 = none. */
  smoothSigma: number;
  /** The share of pixels (in %) whose mean is the `topk` score. */
  topkPercent: number;
}

/** Per-pixel mean and spread of good images' maps (H·W each, row-major). */
export interface NormStats {
  h: number;
  w: number;
  mean: Float32Array;
  std: Float32Array;
}

const SSIM_WINDOW = 11;

const reflect = (x: tf.Tensor4D, p: number): tf.Tensor4D =>
  p > 0
    ? tf.mirrorPad(
        x,
        [
          [0, 0],
          [p, p],
          [p, p],
          [0, 0],
        ],
        'reflect',
      )
    : x;

/** The window the SSIM uses for h × w pictures: 11, or the largest odd size that fits. */
export function ssimWindowSize(h: number, w: number): number {
  const m = Math.min(SSIM_WINDOW, h, w);
  return m % 2 === 1 ? m : m - 1;
}

/** Local SSIM map per channel, [N,H,W,C] (the image's size: borders reflected). */
export function ssimMap(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w, c] = a.shape;
    const size = ssimWindowSize(h, w);
    const win = gaussianWindow(size, 1.5, c);
    const p = (size - 1) / 2;
    return ssimWith(a, b, (x) => tf.depthwiseConv2d(reflect(x, p), win, 1, 'valid'));
  });
}

/** The raw map of `kind` for images `x` and their reconstructions `rec` ([N,H,W,C] in [0,1]): [N,H,W]. */
export function rawMap(x: tf.Tensor4D, rec: tf.Tensor4D, kind: MapKind): tf.Tensor3D {
  return tf.tidy(
    () =>
      (kind === 'l2'
        ? tf.mean(tf.squaredDifference(x, rec), 3)
        : tf.sub(1, tf.mean(ssimMap(x, rec), 3))) as tf.Tensor3D,
  );
}

/** Gaussian smoothing of [N,H,W] maps with σ pixels (reflected borders); σ ≤ 0 gives a copy. */
export function smoothMaps(m: tf.Tensor3D, sigma: number): tf.Tensor3D {
  return tf.tidy(() => {
    if (!(sigma > 0)) return m.clone();
    const [n, h, w] = m.shape;
    const half = Math.max(1, Math.min(Math.ceil(3 * sigma), h - 1, w - 1));
    const win = gaussianWindow(2 * half + 1, sigma, 1);
    const x = reflect(m.reshape([n, h, w, 1]) as tf.Tensor4D, half);
    return tf.depthwiseConv2d(x, win, 1, 'valid').reshape([n, h, w]) as tf.Tensor3D;
  });
}

/** The spread's floor: a tenth of the mean spread (and never 0). */
export function normEpsilon(std: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < std.length; i++) s += std[i];
  return Math.max(1e-6, (0.1 * s) / Math.max(1, std.length));
}

/** The final maps: raw map → smoothed → normalised (when `norm` is given). [N,H,W]. */
export function anomalyMaps(x: tf.Tensor4D, rec: tf.Tensor4D, s: MapSettings, norm?: NormStats): tf.Tensor3D {
  return tf.tidy(() => {
    const m = smoothMaps(rawMap(x, rec, s.map), s.smoothSigma);
    if (!norm) return m;
    const [, h, w] = m.shape;
    if (norm.h !== h || norm.w !== w)
      throw new Error(`The normalisation was measured on ${norm.h}×${norm.w} maps; these maps are ${h}×${w}.`);
    const mean = tf.tensor3d(norm.mean, [1, h, w]);
    const std = tf.add(tf.tensor3d(norm.std, [1, h, w]), normEpsilon(norm.std));
    return tf.div(tf.sub(m, mean), std) as tf.Tensor3D;
  });
}

/** The pixels the top-k score averages for h × w maps. */
export const topkCount = (h: number, w: number, percent: number): number =>
  Math.max(1, Math.min(h * w, Math.round((h * w * percent) / 100)));

/** Image scores of [N,H,W] maps: mean, max and mean of the top k % pixels, each [N]. */
export function mapScores(m: tf.Tensor3D, topkPercent: number): Record<ScoreKind, tf.Tensor1D> {
  return tf.tidy(() => {
    const [n, h, w] = m.shape;
    const flat = m.reshape([n, h * w]) as tf.Tensor2D;
    const k = topkCount(h, w, topkPercent);
    return {
      mean: tf.mean(flat, 1) as tf.Tensor1D,
      max: tf.max(flat, 1) as tf.Tensor1D,
      topk: tf.mean(tf.topk(flat, k).values, 1) as tf.Tensor1D,
    };
  });
}
