// The densities new codes are drawn from, each fitted to a trained model's codes (n × d, row-major):
//  - prior: N(0, I), a VAE's prior (no fitting; VAEs only);
//  - diagonal: a Gaussian with the codes' per-dimension mean and standard deviation;
//  - full: a Gaussian with the codes' full covariance (its Cholesky factor);
//  - gmm: a Gaussian mixture with full covariances fitted by EM (k-means++ start), k chosen among
//    GMM_KS by the mean log-likelihood of a held-out fifth of the codes, then refitted on all;
//  - two-stage: a second, small dense VAE trained on the codes (Dai & Wipf, ICLR 2019; two-stage.ts).
// A fitted sampler is plain JSON (it is saved in the run folder and travels in exports); drawing is
// plain float64 JavaScript with a seeded generator, so the same seed draws the same codes.
import { cholesky } from '../latent-stats';
import { mulberry32, permutation } from '../rng';
import { drawTwoStage, fitTwoStage, type TwoStageOptions, type TwoStageParams } from './two-stage';

export const SAMPLER_NAMES = ['prior', 'diagonal', 'full', 'gmm', 'two-stage'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export const SAMPLER_TITLES: Record<SamplerName, string> = {
  prior: 'VAE prior N(0, I)',
  diagonal: 'diagonal Gaussian',
  full: 'full-covariance Gaussian',
  gmm: 'Gaussian mixture (EM)',
  'two-stage': 'second-stage VAE',
};

/** Mixture sizes tried; the one with the best held-out log-likelihood is kept. */
export const GMM_KS = [1, 2, 4, 8, 16];

export type Sampler =
  | { kind: 'prior'; dim: number }
  | { kind: 'diagonal'; dim: number; mean: number[]; std: number[] }
  | { kind: 'full'; dim: number; mean: number[]; chol: number[] }
  | {
      kind: 'gmm';
      dim: number;
      weights: number[];
      means: number[][];
      /** Each component's lower Cholesky factor, d×d row-major. */
      chols: number[][];
      /** Mean held-out log-likelihood per code for each k tried. */
      selection: Array<{ k: number; heldOutLogLik: number }>;
    }
  | ({ kind: 'two-stage'; dim: number } & TwoStageParams);

export interface FitOptions {
  seed?: number;
  /** Fit on at most this many codes (a seeded subset): EM and the second stage cost time in proportion. */
  maxCodes?: number;
  twoStage?: TwoStageOptions;
}

export function isSamplerName(s: string): s is SamplerName {
  return (SAMPLER_NAMES as readonly string[]).includes(s);
}

/** Standard-normal draws from a seeded generator (Box–Muller). */
export function normals(count: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function subset(
  codes: ArrayLike<number>,
  n: number,
  d: number,
  max: number,
  seed: number,
): { x: Float64Array; n: number } {
  if (n <= max) return { x: Float64Array.from(codes as ArrayLike<number>), n };
  const p = permutation(n, seed);
  const x = new Float64Array(max * d);
  for (let i = 0; i < max; i++) for (let k = 0; k < d; k++) x[i * d + k] = codes[p[i] * d + k];
  return { x, n: max };
}

function meanCov(
  x: Float64Array,
  n: number,
  d: number,
  w?: Float64Array,
): { mean: Float64Array; cov: Float64Array; total: number } {
  const mean = new Float64Array(d);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    total += wi;
    for (let k = 0; k < d; k++) mean[k] += wi * x[i * d + k];
  }
  for (let k = 0; k < d; k++) mean[k] /= Math.max(total, 1e-300);
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    if (wi < 1e-12) continue;
    for (let k = 0; k < d; k++) row[k] = x[i * d + k] - mean[k];
    for (let a = 0; a < d; a++) for (let b = 0; b <= a; b++) cov[a * d + b] += wi * row[a] * row[b];
  }
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      cov[a * d + b] /= Math.max(total, 1e-300);
      cov[b * d + a] = cov[a * d + b];
    }
  }
  return { mean, cov, total };
}

/** log N(x | mean, L Lᵀ) for each row of x, with L lower-triangular. */
function logDensity(
  x: Float64Array,
  n: number,
  d: number,
  mean: ArrayLike<number>,
  L: ArrayLike<number>,
  out: Float64Array,
): void {
  let logDet = 0;
  for (let k = 0; k < d; k++) logDet += Math.log(L[k * d + k]);
  const c = -0.5 * d * Math.log(2 * Math.PI) - logDet;
  const y = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    // solve L y = x − mean
    let q = 0;
    for (let r = 0; r < d; r++) {
      let s = x[i * d + r] - mean[r];
      for (let k = 0; k < r; k++) s -= L[r * d + k] * y[k];
      y[r] = s / L[r * d + r];
      q += y[r] * y[r];
    }
    out[i] = c - 0.5 * q;
  }
}

interface Mixture {
  weights: Float64Array;
  means: Float64Array[];
  chols: Float64Array[];
}

/** Mean log-likelihood per row of x under the mixture; fills `resp` (n × k) with the responsibilities when given. */
function mixtureLogLik(m: Mixture, x: Float64Array, n: number, d: number, resp?: Float64Array): number {
  const k = m.weights.length;
  const lp = new Float64Array(n * k);
  const tmp = new Float64Array(n);
  for (let j = 0; j < k; j++) {
    logDensity(x, n, d, m.means[j], m.chols[j], tmp);
    const lw = Math.log(Math.max(m.weights[j], 1e-300));
    for (let i = 0; i < n; i++) lp[i * k + j] = tmp[i] + lw;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, lp[i * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(lp[i * k + j] - max);
    const lse = max + Math.log(s);
    total += lse;
    if (resp) for (let j = 0; j < k; j++) resp[i * k + j] = Math.exp(lp[i * k + j] - lse);
  }
  return total / n;
}

/** The variance floor added to every component's covariance: keeps EM away from collapsed components. */
function ridgeOf(x: Float64Array, n: number, d: number): number {
  const { cov } = meanCov(x, n, d);
  let trace = 0;
  for (let k = 0; k < d; k++) trace += cov[k * d + k];
  return Math.max(1e-9, (1e-3 * trace) / d);
}

function withRidge(cov: Float64Array, d: number, ridge: number): Float64Array {
  const c = Float64Array.from(cov);
  for (let k = 0; k < d; k++) c[k * d + k] += ridge;
  return c;
}

/** EM for a k-component full-covariance mixture, started from k-means++ centres with a few Lloyd steps. */
export function fitMixture(x: Float64Array, n: number, d: number, k: number, seed: number, iterations = 60): Mixture {
  const rand = mulberry32(seed);
  const ridge = ridgeOf(x, n, d);
  // k-means++ centres
  const first = Math.floor(rand() * n);
  const centres: Float64Array[] = [x.slice(first * d, first * d + d)];
  const near = new Float64Array(n).fill(Infinity);
  const dist2 = (i: number, c: Float64Array) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (x[i * d + t] - c[t]) ** 2;
    return s;
  };
  while (centres.length < k) {
    let sum = 0;
    const last = centres[centres.length - 1];
    for (let i = 0; i < n; i++) {
      near[i] = Math.min(near[i], dist2(i, last));
      sum += near[i];
    }
    let r = rand() * sum;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= near[i];
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    centres.push(x.slice(pick * d, pick * d + d));
  }
  const assign = new Int32Array(n);
  for (let step = 0; step < 5; step++) {
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        const dd = dist2(i, centres[j]);
        if (dd < bestD) {
          bestD = dd;
          best = j;
        }
      }
      assign[i] = best;
    }
    for (let j = 0; j < k; j++) {
      const c = new Float64Array(d);
      let cnt = 0;
      for (let i = 0; i < n; i++) {
        if (assign[i] !== j) continue;
        cnt++;
        for (let t = 0; t < d; t++) c[t] += x[i * d + t];
      }
      if (cnt) centres[j] = c.map((v) => v / cnt);
    }
  }
  const resp = new Float64Array(n * k);
  for (let i = 0; i < n; i++) resp[i * k + assign[i]] = 1;
  let m: Mixture = { weights: new Float64Array(k), means: [], chols: [] };
  let prev = -Infinity;
  for (let it = 0; it < iterations; it++) {
    // M step
    const w = new Float64Array(n);
    const next: Mixture = { weights: new Float64Array(k), means: [], chols: [] };
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < n; i++) w[i] = resp[i * k + j];
      const { mean, cov, total } = meanCov(x, n, d, w);
      next.weights[j] = total / n;
      next.means.push(total > 1e-9 ? mean : centres[j]);
      next.chols.push(cholesky(withRidge(total > 1e-9 ? cov : new Float64Array(d * d), d, ridge), d));
    }
    m = next;
    // E step
    const ll = mixtureLogLik(m, x, n, d, resp);
    if (Math.abs(ll - prev) < 1e-6 * Math.max(1, Math.abs(ll))) break;
    prev = ll;
  }
  return m;
}

/** Fits the named sampler to the codes. `prior` needs no codes (and only makes sense for a VAE). */
export async function fitSampler(
  name: SamplerName,
  codes: ArrayLike<number>,
  n: number,
  d: number,
  opts: FitOptions = {},
): Promise<Sampler> {
  const seed = opts.seed ?? 1;
  if (name === 'prior') return { kind: 'prior', dim: d };
  if (n < 2) throw new Error(`Fitting a ${SAMPLER_TITLES[name]} needs at least 2 codes (got ${n}).`);
  const { x, n: m } = subset(codes, n, d, opts.maxCodes ?? 5000, seed);
  if (name === 'diagonal' || name === 'full') {
    const { mean, cov } = meanCov(x, m, d);
    if (name === 'diagonal')
      return {
        kind: 'diagonal',
        dim: d,
        mean: Array.from(mean),
        std: Array.from({ length: d }, (_, k) => Math.sqrt(Math.max(0, cov[k * d + k]))),
      };
    return { kind: 'full', dim: d, mean: Array.from(mean), chol: Array.from(cholesky(cov, d)) };
  }
  if (name === 'gmm') {
    const p = permutation(m, seed + 1);
    const nHeld = Math.max(1, Math.floor(m / 5));
    const fitRows = m - nHeld;
    const pick = (from: number, count: number) => {
      const out = new Float64Array(count * d);
      for (let i = 0; i < count; i++) out.set(x.subarray(p[from + i] * d, p[from + i] * d + d), i * d);
      return out;
    };
    const held = pick(0, nHeld);
    const fit = pick(nHeld, fitRows);
    const selection: Array<{ k: number; heldOutLogLik: number }> = [];
    for (const k of GMM_KS) {
      // every component needs a few times d codes for its covariance
      if (k > 1 && fitRows < k * Math.max(10, 2 * d)) break;
      const mix = fitMixture(fit, fitRows, d, k, seed);
      selection.push({ k, heldOutLogLik: mixtureLogLik(mix, held, nHeld, d) });
    }
    const best = selection.reduce((a, b) => (b.heldOutLogLik > a.heldOutLogLik ? b : a));
    const mix = fitMixture(x, m, d, best.k, seed);
    return {
      kind: 'gmm',
      dim: d,
      weights: Array.from(mix.weights),
      means: mix.means.map((v) => Array.from(v)),
      chols: mix.chols.map((v) => Array.from(v)),
      selection,
    };
  }
  return { kind: 'two-stage', dim: d, ...(await fitTwoStage(x, m, d, { seed, ...opts.twoStage })) };
}

/** `n` codes (n × d) drawn from the sampler with the seed. */
export function drawCodes(s: Sampler, n: number, seed: number): Float32Array {
  const d = s.dim;
  const eps = normals(n * d, seed);
  const out = new Float32Array(n * d);
  if (s.kind === 'prior') {
    out.set(eps);
    return out;
  }
  if (s.kind === 'diagonal') {
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) out[i * d + k] = s.mean[k] + s.std[k] * eps[i * d + k];
    return out;
  }
  const gauss = (i: number, mean: ArrayLike<number>, L: ArrayLike<number>) => {
    for (let r = 0; r < d; r++) {
      let v = mean[r];
      for (let k = 0; k <= r; k++) v += L[r * d + k] * eps[i * d + k];
      out[i * d + r] = v;
    }
  };
  if (s.kind === 'full') {
    for (let i = 0; i < n; i++) gauss(i, s.mean, s.chol);
    return out;
  }
  if (s.kind === 'gmm') {
    const rand = mulberry32(seed ^ 0x9e3779b9);
    for (let i = 0; i < n; i++) {
      let u = rand();
      let j = 0;
      while (j < s.weights.length - 1 && u >= s.weights[j]) u -= s.weights[j++];
      gauss(i, s.means[j], s.chols[j]);
    }
    return out;
  }
  return drawTwoStage(s, n, eps);
}

/** A one-line description of a fitted sampler (e.g. the mixture size chosen). */
export function describeSampler(s: Sampler): string {
  if (s.kind === 'gmm')
    return `${SAMPLER_TITLES.gmm}, k = ${s.weights.length} (held-out log-likelihood per code: ${s.selection.map((c) => `k=${c.k} ${c.heldOutLogLik.toFixed(2)}`).join(', ')})`;
  if (s.kind === 'two-stage')
    return `${SAMPLER_TITLES['two-stage']} (${s.hidden} hidden units, γ = ${Math.exp(s.logGamma).toPrecision(3)}, ${s.epochs} epochs)`;
  return SAMPLER_TITLES[s.kind];
}
