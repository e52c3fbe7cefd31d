// The Fréchet distance between two sets of feature vectors (FID when the features come from a
// network trained on the domain): each set as a Gaussian (mean, covariance with n − 1, as numpy's
// np.cov), then ‖μ₁ − μ₂‖² + tr C₁ + tr C₂ − 2 tr (C₁C₂)^½. The last trace is computed from the
// eigenvalues of the symmetric product S C₂ S with S = C₁^½ (both by symmetric eigen-decomposition,
// negative round-off clipped to 0): S C₂ S is similar to C₁C₂, so tr (C₁C₂)^½ = Σ √λ(S C₂ S). All in
// float64.
import { symEig } from '../evaluate/linalg';

export interface FeatureGaussian {
  dim: number;
  count: number;
  mean: Float64Array;
  /** d×d row-major, unbiased (n − 1). */
  cov: Float64Array;
}

/** Mean and covariance of n feature rows (n × d, row-major). */
export function featureGaussian(x: ArrayLike<number>, n: number, d: number): FeatureGaussian {
  if (n < 2) throw new Error(`A covariance needs at least 2 feature vectors (got ${n}).`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += x[i * d + k];
  for (let k = 0; k < d; k++) mean[k] /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) row[k] = x[i * d + k] - mean[k];
    for (let a = 0; a < d; a++) {
      const va = row[a];
      if (va === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += va * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      cov[a * d + b] /= n - 1;
      cov[b * d + a] = cov[a * d + b];
    }
  }
  return { dim: d, count: n, mean, cov };
}

/** The symmetric square root of a symmetric positive semi-definite d×d matrix. */
export function sqrtSym(a: Float64Array, d: number): Float64Array {
  const { values, vectors } = symEig(a, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(0, values[k]));
    if (s === 0) continue;
    for (let r = 0; r < d; r++) {
      const vr = vectors[r * d + k] * s;
      if (vr === 0) continue;
      for (let c = 0; c < d; c++) out[r * d + c] += vr * vectors[c * d + k];
    }
  }
  return out;
}

function matMul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let r = 0; r < d; r++) {
    for (let k = 0; k < d; k++) {
      const v = a[r * d + k];
      if (v === 0) continue;
      for (let c = 0; c < d; c++) out[r * d + c] += v * b[k * d + c];
    }
  }
  return out;
}

/** tr (C₁C₂)^½ for symmetric positive semi-definite C₁, C₂. */
export function traceSqrtProduct(c1: Float64Array, c2: Float64Array, d: number): number {
  const s = sqrtSym(c1, d);
  const m = matMul(matMul(s, c2, d), s, d);
  // symmetrise away the round-off before the eigen-decomposition
  for (let r = 0; r < d; r++)
    for (let c = r + 1; c < d; c++) m[r * d + c] = m[c * d + r] = (m[r * d + c] + m[c * d + r]) / 2;
  const { values } = symEig(m, d);
  let t = 0;
  for (const v of values) t += Math.sqrt(Math.max(0, v));
  return t;
}

/** The Fréchet distance between two feature Gaussians of the same dimension. */
export function frechetDistance(a: FeatureGaussian, b: FeatureGaussian): number {
  const d = a.dim;
  if (b.dim !== d) throw new Error(`The feature sets have ${a.dim} and ${b.dim} dimensions.`);
  let dist = 0;
  let trace = 0;
  for (let k = 0; k < d; k++) {
    dist += (a.mean[k] - b.mean[k]) ** 2;
    trace += a.cov[k * d + k] + b.cov[k * d + k];
  }
  return Math.max(0, dist + trace - 2 * traceSqrtProduct(a.cov, b.cov, d));
}
