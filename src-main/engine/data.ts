// Datasets as the engine sees them: uint8 (0..255) or float (0..1) pixels, N×H×W×C, optional labels.
import { tf } from './tf';
import { mulberry32, permutation } from './rng';

export interface Dataset {
  /** N·H·W·C pixels: uint8 0..255 or float 0..1. */
  images: Uint8Array | Float32Array;
  labels?: Int32Array | Uint8Array;
  count: number;
  shape: [number, number, number];
}

/**
 * Writes the images at dataset rows `rowAt(0)`…`rowAt(n − 1)` into `out`, one after the other, as
 * float32 in [0,1]: float pixels as they are, uint8 pixels × (1/255). (For every uint8 value v,
 * float32(v × (1/255)) = float32(v / 255), so this is also what v / 255 gives.) Each row is
 * contiguous: `out.set` copies it (converting uint8 to float natively), then one pass scales the
 * uint8 ones — faster in V8 than one loop that reads, multiplies and writes pixel by pixel.
 */
function fillRows(ds: Dataset, n: number, rowAt: (k: number) => number, out: Float32Array): void {
  const [h, w, c] = ds.shape;
  const size = h * w * c;
  for (let k = 0; k < n; k++) {
    const src = rowAt(k) * size;
    out.set(ds.images.subarray(src, src + size), k * size);
  }
  if (ds.images instanceof Uint8Array) {
    const scale = 1 / 255;
    const end = n * size;
    for (let j = 0; j < end; j++) out[j] *= scale;
  }
}

/** One float32 [N,H,W,C] tensor in [0,1] of the dataset (or of its `indices`), made from one preallocated typed array. */
export function toTensor(ds: Dataset, indices?: ArrayLike<number>): tf.Tensor4D {
  const [h, w, c] = ds.shape;
  const n = indices ? indices.length : ds.count;
  const out = new Float32Array(n * h * w * c);
  fillRows(ds, n, indices ? (k) => indices[k] : (k) => k, out);
  return tf.tensor4d(out, [n, h, w, c]);
}

/**
 * Batches of some of a dataset's images — `rows`, dataset indices — as float32 [n,H,W,C] tensors in
 * [0,1] (the same pixels as `toTensor`), for training and measuring on datasets too big to hold as
 * one float tensor: each batch is filled from the dataset's typed array into one Float32Array that
 * is reused from batch to batch, and the tensor is made from it. No tensor of the whole set, and no
 * gather kernel per batch.
 *
 * Reuse needs care on tfjs-node: `tf.tensor4d(array)` does not copy — the backend keeps the array
 * and copies it into TensorFlow's memory when a kernel first reads the tensor, so refilling the
 * array before that would change the tensor. `batch` therefore has the backend copy it at once.
 */
export class BatchSource {
  /** Images this source hands out (`rows.length`). */
  readonly count: number;
  private buf: Float32Array;
  private readonly size: number;

  constructor(
    readonly ds: Dataset,
    readonly rows: Int32Array,
    /** The largest batch expected (the buffer grows if a bigger one is asked for). */
    maxBatch: number,
  ) {
    const [h, w, c] = ds.shape;
    this.size = h * w * c;
    this.count = rows.length;
    this.buf = new Float32Array(Math.max(1, Math.min(maxBatch, rows.length)) * this.size);
  }

  /** The images at `positions` (indices into `rows`), in that order. */
  gather(positions: ArrayLike<number>): tf.Tensor4D {
    const rows = this.rows;
    return this.batch(positions.length, (k) => rows[positions[k]]);
  }

  /** `size` images from position `start` of `rows`. */
  slice(start: number, size: number): tf.Tensor4D {
    const rows = this.rows;
    return this.batch(size, (k) => rows[start + k]);
  }

  private batch(n: number, rowAt: (k: number) => number): tf.Tensor4D {
    if (n * this.size > this.buf.length) this.buf = new Float32Array(n * this.size);
    const view = this.buf.subarray(0, n * this.size);
    fillRows(this.ds, n, rowAt, view);
    const [h, w, c] = this.ds.shape;
    const be = tf.backend() as unknown as { getInputTensorIds?: (ts: tf.Tensor[]) => unknown };
    if (typeof be.getInputTensorIds !== 'function') return tf.tensor4d(view.slice(), [n, h, w, c]); // another backend: its own copy
    const t = tf.tensor4d(view, [n, h, w, c]);
    be.getInputTensorIds([t]); // tfjs-node: copy into TensorFlow now, so the buffer can be refilled
    return t;
  }
}

/**
 * Seeded split into training, validation and (optional) test indices. The validation images are the
 * same with or without a test split (the test images come from what would otherwise train), so
 * turning a test split on does not change what earlier runs validated on.
 */
export function splitIndices(count: number, validationSplit: number, seed: number, testSplit = 0): { train: Int32Array; val: Int32Array; test: Int32Array } {
  const p = permutation(count, seed ^ 0x5eed);
  const nVal = Math.floor(count * validationSplit);
  const nTest = Math.floor(count * testSplit);
  return { val: p.slice(0, nVal), test: p.slice(nVal, nVal + nTest), train: p.slice(nVal + nTest) };
}

/** The indices whose label is not in `exclude` (all of them when nothing is excluded). */
export function withoutLabels(indices: Int32Array, labels: ArrayLike<number> | undefined, exclude: readonly number[]): Int32Array {
  if (!exclude.length || !labels) return indices;
  const drop = new Set(exclude);
  return indices.filter((i) => !drop.has(labels[i]));
}

/** How many of `indices` carry each label: label → count, in label order. */
export function labelCounts(indices: ArrayLike<number>, labels: ArrayLike<number>): Map<number, number> {
  const m = new Map<number, number>();
  for (let k = 0; k < indices.length; k++) m.set(labels[indices[k]], (m.get(labels[indices[k]]) ?? 0) + 1);
  return new Map([...m.entries()].sort((a, b) => a[0] - b[0]));
}

/**
 * One epoch's order for class-balanced sampling: `positions.length` draws (positions in the
 * training split), each picking a label uniformly and then one of its images uniformly, with
 * replacement — a rare label's images come up as often as a common label's. Seeded.
 */
export function balancedOrder(trainLabels: ArrayLike<number>, seed: number): Int32Array {
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < trainLabels.length; i++) {
    const l = trainLabels[i];
    let a = byLabel.get(l);
    if (!a) byLabel.set(l, (a = []));
    a.push(i);
  }
  const groups = [...byLabel.values()];
  const rand = mulberry32(seed);
  const out = new Int32Array(trainLabels.length);
  for (let k = 0; k < out.length; k++) {
    const g = groups[Math.floor(rand() * groups.length)];
    out[k] = g[Math.floor(rand() * g.length)];
  }
  return out;
}

export { loadMnist } from './mnist';
