// Precision and recall for generative models (Kynkäänniemi et al., NeurIPS 2019): each set of
// feature vectors stands for a manifold, the union of balls around its points whose radius is the
// distance to the point's k-th nearest neighbour in its own set (k = 3). Precision: the share of
// generated points inside the real manifold (how many samples look real). Recall: the share of
// real points inside the generated manifold (how much of the real data the samples cover).
// Brute-force Euclidean distances in float64.
import { selectInPlace } from '../select';

/** Squared distances between the rows of a (n × d) and of b (m × d), n × m row-major. */
function squaredDistances(a: ArrayLike<number>, n: number, b: ArrayLike<number>, m: number, d: number): Float64Array {
  const na = new Float64Array(n);
  const nb = new Float64Array(m);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) na[i] += a[i * d + k] ** 2;
  for (let j = 0; j < m; j++) for (let k = 0; k < d; k++) nb[j] += b[j * d + k] ** 2;
  const out = new Float64Array(n * m);
  const ra = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) ra[k] = a[i * d + k];
    for (let j = 0; j < m; j++) {
      // the exact difference, not ‖a‖² + ‖b‖² − 2ab (which loses digits for close points)
      let s = 0;
      const off = j * d;
      for (let k = 0; k < d; k++) {
        const t = ra[k] - b[off + k];
        s += t * t;
      }
      out[i * m + j] = s;
    }
  }
  return out;
}

/** Each point's squared distance to its k-th nearest neighbour in its own set (itself excluded). */
export function knnRadii(x: ArrayLike<number>, n: number, d: number, k = 3): Float64Array {
  if (n <= k) throw new Error(`The k-NN manifold needs more than k = ${k} points (got ${n}).`);
  const dist = squaredDistances(x, n, x, n, d);
  const radii = new Float64Array(n);
  const row = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    let w = 0;
    for (let j = 0; j < n; j++) if (j !== i) row[w++] = dist[i * n + j];
    radii[i] = kthSmallest(row, k);
  }
  return radii;
}

/** The k-th smallest value (1-based) of a (partially reordered in place). */
function kthSmallest(a: Float64Array, k: number): number {
  selectInPlace(a, k - 1);
  return a[k - 1];
}

/** Share of the `query` rows that fall inside some ball (center row of `manifold`, squared radius). */
function coverage(
  query: ArrayLike<number>,
  nq: number,
  manifold: ArrayLike<number>,
  nm: number,
  radii: Float64Array,
  d: number,
): number {
  const dist = squaredDistances(query, nq, manifold, nm, d);
  let inside = 0;
  for (let i = 0; i < nq; i++) {
    for (let j = 0; j < nm; j++) {
      if (dist[i * nm + j] <= radii[j]) {
        inside++;
        break;
      }
    }
  }
  return inside / nq;
}

/** Precision and recall of generated feature rows against real ones (each n × d), k-NN manifolds. */
export function precisionRecall(
  real: ArrayLike<number>,
  nReal: number,
  fake: ArrayLike<number>,
  nFake: number,
  d: number,
  k = 3,
): { precision: number; recall: number } {
  const realRadii = knnRadii(real, nReal, d, k);
  const fakeRadii = knnRadii(fake, nFake, d, k);
  return {
    precision: coverage(fake, nFake, real, nReal, realRadii, d),
    recall: coverage(real, nReal, fake, nFake, fakeRadii, d),
  };
}
