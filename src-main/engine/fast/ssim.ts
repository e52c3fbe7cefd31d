// The SSIM objective's term for the fast and graph training steps (step.ts): w·(1 − mean SSIM) of
// a batch (or of one part of it) and its gradient with respect to the reconstruction, written by
// hand on TensorFlow's kernels (native.ts). Same SSIM as metrics.ts: K1 = 0.01, K2 = 0.03, an
// 11×11 Gaussian window of σ = 1.5 (the largest odd size that fits in smaller pictures), valid
// positions only, the mean over every position and channel of every image.
//
// The window is the outer product of a 1-D Gaussian g, so the local mean G*x is two passes, one
// along the rows and one along the columns, and each pass is a matrix product with a banded
// matrix (Gh [H′, H] with Gh[i, i + j] = g[j], Gw [W′, W] likewise; for narrow rows the column
// pass is one plain product with Gwᵀ ⊗ I_C, kronBand): on these small pictures that beat
// TensorFlow's 11×11 depthwise convolution by 1.5–8× on the CPU (docs/inspection.md). The five
// local means (of x, y, x², y², xy) go through the passes as one stacked tensor; so do the three
// gradients through the transposed passes. With μx = G*x, E[x²] = G*x², E[xy] = G*(xy),
//   A1 = 2μxμy + C1, A2 = 2(E[xy] − μxμy) + C2, B1 = μx² + μy² + C1, B2 = E[x²] − μx² + E[y²] − μy² + C2,
//   S = A1·A2 / (B1·B2), and with D = B1·B2:
//   ∂S/∂μx = 2/D · (μy(A2 − A1) − S·μx(B2 − B1)),  ∂S/∂E[xy] = 2A1/D,  ∂S/∂E[x²] = −S/B2,
//   dL/dx = Gᵀ(∂L/∂μx) + 2x·Gᵀ(∂L/∂E[x²]) + y·Gᵀ(∂L/∂E[xy]).
// Checked against tfjs's autodiff of objective.ts's reconstructionLoss per model kind in
// test/unit/main/engine/fast/ssim.test.ts.
import { tf } from '../tf';
import * as n from './native';

type Tensor = tf.Tensor;

/** The SSIM window's side for pictures of `shape`: 11, or the largest odd size that fits (metrics.ts). */
export function ssimWindow(shape: readonly number[]): number {
  const m = Math.min(11, shape[0], shape[1]);
  return m % 2 === 1 ? m : m - 1;
}

/** The normalised 1-D Gaussian (σ = 1.5) whose outer product is metrics.ts's window. */
export function gaussian1d(size: number): number[] {
  const g: number[] = [];
  const half = (size - 1) / 2;
  for (let i = 0; i < size; i++) g.push(Math.exp(-((i - half) ** 2) / (2 * 1.5 * 1.5)));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
}

/** The banded matrix [L − k + 1, L] of a valid 1-D filtering with `g` (row i holds g at columns i..i+k−1). */
function band(length: number, g: number[]): tf.Tensor2D {
  const out = length - g.length + 1;
  const m = new Float32Array(out * length);
  for (let i = 0; i < out; i++) for (let j = 0; j < g.length; j++) m[i * length + i + j] = g[j];
  return tf.tensor2d(m, [out, length]);
}

/**
 * The column pass as one plain matrix [W·C, W′·C] (Gwᵀ ⊗ I_C: output column i, channel c takes
 * g[j] of input column i + j, channel c), for a product with the pictures' rows [·, W·C].
 */
function kronBand(width: number, channels: number, g: number[]): tf.Tensor2D {
  const out = width - g.length + 1;
  const m = new Float32Array(width * channels * out * channels);
  for (let i = 0; i < out; i++)
    for (let j = 0; j < g.length; j++)
      for (let c = 0; c < channels; c++) m[((i + j) * channels + c) * out * channels + i * channels + c] = g[j];
  return tf.tensor2d(m, [width * channels, out * channels]);
}

/**
 * Rows of at most this many values (W·C) take the column pass as one plain matrix product with
 * kronBand's matrix instead of a batch of one tiny product per row: 4× faster on 28×28×1 and 1.6×
 * on 64×64×3 (measured on the busy 2-core machine, 2026-12-06). Wider rows would multiply mostly zeros.
 */
const KRON_MAX_ROW = 256;

/** The step's kept tensors: `kept(key, make)` returns the tensor under `key`, made once and kept for the step's life. */
export type Kept = (key: string, make: () => Tensor) => Tensor;

/**
 * w·(1 − mean SSIM(x, y)) over this batch's N images (a scalar) and its gradient with respect to
 * x (shaped as x), the mean being the whole batch's T images' (so a part's gradient is its share).
 * x and y are [N, H, W, C] (any shape of that size); every constant it reads comes from `kept`, so
 * the graph step (graph.ts) sees nothing made inside the step but the batch and its values.
 */
export function ssimTerm(
  x: Tensor,
  y: Tensor,
  shape: readonly [number, number, number],
  N: number,
  T: number,
  weight: number,
  kept: Kept,
): { loss: Tensor; dx: Tensor } {
  const [H, W, C] = shape;
  const k = ssimWindow(shape);
  const [Hp, Wp] = [H - k + 1, W - k + 1];
  const g = gaussian1d(k);
  const s = (key: string, v: number) => kept(`ssim/${key}`, () => tf.scalar(v));
  const i32 = (dims: number[]) => kept(`ssim/shape${dims.join(',')}`, () => tf.tensor1d(dims, 'int32'));
  const gh = kept(`ssim/gh${H},${k}`, () => band(H, g));
  const kron = W * C <= KRON_MAX_ROW;
  const gw = kron ? kept(`ssim/kw${W},${C},${k}`, () => kronBand(W, C, g)) : kept(`ssim/gw${W},${k}`, () => band(W, g));
  const axis0 = kept('ssim/axis0', () => tf.scalar(0, 'int32'));
  // the local means come back [N·H′, W′·C] (kron) or [N·H′, W′, C]
  const axes = kron
    ? kept('ssim/axes2', () => tf.tensor1d([0, 1], 'int32'))
    : kept('ssim/axes3', () => tf.tensor1d([0, 1, 2], 'int32'));
  // The whole batch's positions: dL/dS = −w/M′ at each.
  const K = kept(`ssim/K${T},${weight}`, () => tf.scalar((2 * weight) / (T * Hp * Wp * C)));
  const negK = kept(`ssim/negK${T},${weight}`, () => tf.scalar((-2 * weight) / (T * Hp * Wp * C)));

  /** G* of `parts` tensors [N, H, W·C] at once: each comes back [N·H′, W′·C] (kron) or [N·H′, W′, C]. */
  const filter = (parts: Tensor[]) => {
    const P = parts.length;
    const rows = n.batchMatMul(gh, n.concat(parts, axis0)); // [P·N, H′, W·C]
    const cols = kron
      ? n.matMul(n.reshape(rows, i32([P * N * Hp, W * C])), gw)
      : n.batchMatMul(gw, n.reshape(rows, i32([P * N * Hp, W, C])));
    return n.split(cols, axis0, P);
  };
  /** Gᵀ* of `parts` tensors shaped as filter's results at once: each comes back [N, H, W·C]. */
  const filterT = (parts: Tensor[]) => {
    const P = parts.length;
    const cols = kron
      ? n.matMul(n.concat(parts, axis0), gw, false, true)
      : n.batchMatMul(gw, n.concat(parts, axis0), true);
    const rows = n.batchMatMul(gh, n.reshape(cols, i32([P * N, Hp, W * C])), true); // [P·N, H, W·C]
    return n.split(rows, axis0, P);
  };

  const flat = i32([N, H, W * C]);
  const xr = n.reshape(x, flat);
  const yr = n.reshape(y, flat);
  const [mx, my, exx, eyy, exy] = filter([xr, yr, n.square(xr), n.square(yr), n.mul(xr, yr)]);
  const mx2 = n.square(mx);
  const my2 = n.square(my);
  const mxy = n.mul(mx, my);
  const two = s('two', 2);
  const A1 = n.add(n.mul(two, mxy), s('C1', 0.01 ** 2));
  const A2 = n.add(n.mul(two, n.sub(exy, mxy)), s('C2', 0.03 ** 2));
  const B1 = n.add(n.add(mx2, my2), s('C1', 0.01 ** 2));
  const B2 = n.add(n.add(n.sub(exx, mx2), n.sub(eyy, my2)), s('C2', 0.03 ** 2));
  const q = n.op('Reciprocal', [n.mul(B1, B2)]);
  const S = n.mul(n.mul(A1, A2), q);
  const loss = n.mul(n.sub(s('one', 1), n.mean(S, axes)), s(`w${weight}`, weight));
  // ∂L/∂μx, 2·∂L/∂E[x²] and ∂L/∂E[xy], each already × −w/M′ (K = 2w/M′).
  const dmx = n.mul(n.mul(q, K), n.sub(n.mul(n.mul(S, mx), n.sub(B2, B1)), n.mul(my, n.sub(A2, A1))));
  const dexx2 = n.mul(n.mul(n.mul(S, B1), q), K);
  const dexy = n.mul(n.mul(A1, q), negK);
  const [t0, t1, t2] = filterT([dmx, dexx2, dexy]);
  const dx = n.add(n.add(t0, n.mul(xr, t1)), n.mul(yr, t2));
  return { loss, dx: n.reshape(dx, i32([N, H, W, C])) };
}
