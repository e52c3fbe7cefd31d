// The Gaussian a plain autoencoder samples from, fitted to the training set's codes: the mean and
// the full covariance (as its Cholesky factor L, so a sample is mean + L·ε). Codes are strongly
// correlated, so a diagonal Gaussian puts samples where no training code lies and they come out
// blurry; the full covariance keeps them in the region the decoder learned. Codes wider than
// FULL_COVARIANCE_MAX fall back to the diagonal (the factorisation is O(d³)). VAEs use N(0, I).
import { tf } from './tf';
import { encodeMean, type Autoencoder } from './models';
import { BatchSource } from './data';

/** Widest code whose full covariance is fitted (512³ flops is well under a second). */
export const FULL_COVARIANCE_MAX = 512;

export interface LatentStats {
  mean: number[];
  /** Per-dimension standard deviation (the diagonal). */
  std: number[];
  /** Lower-triangular Cholesky factor of the covariance, d×d row-major; absent on older runs and on very wide codes. */
  chol?: number[];
}

/** The statistics of the codes of `x`'s images: a tensor of them, or a BatchSource (batch by batch, no tensor of them all). */
export async function fitLatentStats(
  ae: Autoencoder,
  x: tf.Tensor | BatchSource,
  batchSize = 256,
): Promise<LatentStats> {
  const n = x instanceof BatchSource ? x.count : x.shape[0];
  let sum: Float64Array | undefined;
  let outer: Float64Array | undefined;
  let d = 0;
  for (let i = 0; i < n; i += batchSize) {
    const size = Math.min(batchSize, n - i);
    const [s, zz] = tf.tidy((): tf.Tensor[] => {
      const z = encodeMean(ae, x instanceof BatchSource ? x.slice(i, size) : x.slice(i, size));
      d = z.shape[1] as number;
      const full = d <= FULL_COVARIANCE_MAX;
      return [tf.sum(z, 0), full ? tf.matMul(z, z, true, false) : tf.sum(tf.square(z), 0)];
    });
    const a = await s.data();
    const b = await zz.data();
    tf.dispose([s, zz]);
    sum ??= new Float64Array(a.length);
    outer ??= new Float64Array(b.length);
    for (let k = 0; k < a.length; k++) sum[k] += a[k];
    for (let k = 0; k < b.length; k++) outer[k] += b[k];
  }
  if (!sum || !outer) return { mean: [], std: [] };
  const mean = Array.from(sum, (v) => v / n);
  const full = outer.length === d * d;
  const cov = (r: number, c: number) => (full ? outer![r * d + c] : r === c ? outer![r] : 0) / n - mean[r] * mean[c];
  const std = mean.map((_, k) => Math.sqrt(Math.max(0, cov(k, k))));
  if (!full) return { mean, std };
  const m = new Float64Array(d * d);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) m[r * d + c] = cov(r, c);
  return { mean, std, chol: Array.from(cholesky(m, d)) };
}

/**
 * Cholesky factor L (lower, row-major) of a symmetric positive semi-definite d×d matrix. A ridge of
 * 1e-6 × the mean variance keeps it defined when codes are collinear (e.g. dead ReLU units).
 */
export function cholesky(a: Float64Array, d: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < d; i++) trace += a[i * d + i];
  const ridge = Math.max(1e-12, (1e-6 * trace) / Math.max(1, d));
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j] + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
      if (i === j) L[i * d + i] = Math.sqrt(Math.max(s, 1e-12));
      else L[i * d + j] = s / L[j * d + j];
    }
  }
  return L;
}

/** `n` codes from the fitted Gaussian for standard-normal draws `eps` ([n, d]): mean + eps·Lᵀ (or mean + eps·std). Inside a tidy. */
export function sampleCodes(stats: LatentStats, eps: tf.Tensor2D): tf.Tensor2D {
  const d = stats.mean.length;
  const mean = tf.tensor1d(stats.mean);
  if (stats.chol && stats.chol.length === d * d)
    return tf.add(tf.matMul(eps, tf.tensor2d(stats.chol, [d, d]), false, true), mean);
  return tf.add(tf.mul(eps, tf.tensor1d(stats.std)), mean);
}
