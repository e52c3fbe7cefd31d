// PCA with k components for the feature baselines: the "same number of dimensions as the code"
// comparison. Subspace iteration on the centred data X (n×d) with tfjs's native matMul —
// Q ← orth(Xᵀ X Q) — then Rayleigh–Ritz on the k×k projected covariance (Jacobi, linalg.ts).
// It never forms the d×d covariance, so 64×64×3 pictures (d = 12,288) cost n·d·k per iteration.
import { tf } from '../tf';
import { symEig } from './linalg';

export interface Pca {
  /** d. */
  mean: Float32Array;
  /** d×k row-major: the components as columns, by decreasing variance. */
  components: Float32Array;
  /** Variance along each component. */
  variances: number[];
  /** Share of the total variance the k components explain. */
  explained: number;
  d: number;
  k: number;
}

/** Orthonormal columns of Y (d×k) via the Gram matrix: Y · (YᵀY)^(−1/2). */
function orthonormalize(y: tf.Tensor2D): tf.Tensor2D {
  const k = y.shape[1];
  const g = tf.tidy(() => tf.matMul(y, y, true, false));
  const gram = Float64Array.from(g.dataSync());
  g.dispose();
  const { values, vectors } = symEig(gram, k);
  const inv = new Float32Array(k * k);
  for (let r = 0; r < k; r++)
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < k; j++)
        s += (vectors[r * k + j] * vectors[c * k + j]) / Math.sqrt(Math.max(values[j], 1e-20));
      inv[r * k + c] = s;
    }
  return tf.tidy(() => tf.matMul(y, tf.tensor2d(inv, [k, k])));
}

/** Fits k principal components to the rows of x ([n, d] float32). */
export function fitPca(x: tf.Tensor2D, k: number, iterations = 12, seed = 7): Pca {
  const [n, d] = x.shape;
  k = Math.max(1, Math.min(k, d, n));
  const meanT = tf.mean(x, 0) as tf.Tensor1D;
  const xc = tf.sub(x, meanT) as tf.Tensor2D;
  const start = tf.randomNormal([d, k], 0, 1, 'float32', seed) as tf.Tensor2D;
  let q = orthonormalize(start);
  start.dispose();
  for (let it = 0; it < iterations; it++) {
    const y = tf.tidy(() => tf.matMul(xc, tf.matMul(xc, q), true, false) as tf.Tensor2D);
    q.dispose();
    q = orthonormalize(y);
    y.dispose();
  }
  // Rayleigh–Ritz: rotate Q to the eigenvectors of Qᵀ C Q.
  const b = tf.tidy(() => {
    const xq = tf.matMul(xc, q);
    return tf.div(tf.matMul(xq, xq, true, false), Math.max(1, n - 1));
  });
  const { values, vectors } = symEig(Float64Array.from(b.dataSync()), k);
  b.dispose();
  const comps = tf.tidy(() => tf.matMul(q, tf.tensor2d(Float32Array.from(vectors), [k, k])));
  const total = tf.tidy(() => tf.div(tf.sum(tf.square(xc)), Math.max(1, n - 1)).dataSync()[0]);
  const pca: Pca = {
    mean: meanT.dataSync() as Float32Array,
    components: comps.dataSync() as Float32Array,
    variances: Array.from(values),
    explained: total > 0 ? values.reduce((a, v) => a + v, 0) / total : 0,
    d,
    k,
  };
  tf.dispose([meanT, xc, q, comps]);
  return pca;
}

/** The rows of x projected onto the components ([n, k]). Caller disposes. */
export function projectPca(p: Pca, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(tf.sub(x, tf.tensor1d(p.mean)), tf.tensor2d(p.components, [p.d, p.k])));
}
