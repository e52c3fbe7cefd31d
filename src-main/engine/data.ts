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
 * uint8 pixels that stay in a file and are read a batch at a time — how the trainer trains on a
 * stored dataset too big to hold in memory comfortably (datasets/store.ts `openDataset`).
 */
export interface RowReader {
  /**
   * Rows `rowAt(0)`…`rowAt(n − 1)` (each H·W·C uint8 pixels), one after the other, in a buffer the
   * reader reuses: valid until its next call.
   */
  readRows(n: number, rowAt: (k: number) => number): Uint8Array;
}

/** A dataset whose pixels are read from a file batch by batch (see {@link RowReader}). */
export type StreamedDataset = Omit<Dataset, 'images'> & { images: RowReader };

/** What training reads images from: a dataset in memory, or one streamed from its file. */
export type TrainingData = Dataset | StreamedDataset;

const inMemory = (px: TrainingData['images']): px is Uint8Array | Float32Array =>
  px instanceof Uint8Array || px instanceof Float32Array;

/**
 * Writes the images at dataset rows `rowAt(0)`…`rowAt(n − 1)` into `out`, one after the other, as
 * float32 in [0,1]: float pixels as they are, uint8 pixels × (1/255). (For every uint8 value v,
 * float32(v × (1/255)) = float32(v / 255), so this is also what v / 255 gives.) Each row is
 * contiguous: `out.set` copies it (converting uint8 to float natively), then one pass, unrolled by
 * eight, scales the uint8 ones — in V8 about twice as fast as one loop that reads, multiplies and
 * writes pixel by pixel, and as fast as TensorFlow's gather kernel on a batch of MNIST digits.
 */
function fillRows(ds: TrainingData, n: number, rowAt: (k: number) => number, out: Float32Array): void {
  const [h, w, c] = ds.shape;
  const size = h * w * c;
  const px = ds.images;
  if (inMemory(px)) {
    for (let k = 0; k < n; k++) {
      const src = rowAt(k) * size;
      out.set(px.subarray(src, src + size), k * size);
    }
  } else {
    out.set(px.readRows(n, rowAt));
  }
  if (!(px instanceof Float32Array)) {
    const scale = 1 / 255;
    const end = n * size;
    let j = 0;
    for (; j + 8 <= end; j += 8) {
      out[j] *= scale;
      out[j + 1] *= scale;
      out[j + 2] *= scale;
      out[j + 3] *= scale;
      out[j + 4] *= scale;
      out[j + 5] *= scale;
      out[j + 6] *= scale;
      out[j + 7] *= scale;
    }
    for (; j < end; j++) out[j] *= scale;
  }
}

/** One float32 [N,H,W,C] tensor in [0,1] of the dataset (or of its `indices`), made from one preallocated typed array. */
export function toTensor(ds: TrainingData, indices?: ArrayLike<number>): tf.Tensor4D {
  const [h, w, c] = ds.shape;
  const n = indices ? indices.length : ds.count;
  const out = new Float32Array(n * h * w * c);
  fillRows(ds, n, indices ? (k) => indices[k] : (k) => k, out);
  return tf.tensor4d(out, [n, h, w, c]);
}

/** tfjs-node's backend, as far as BatchSource needs it: the call that hands a tensor's array to TensorFlow. */
interface NodeBackend {
  getInputTensorIds(tensors: tf.Tensor[]): unknown;
}
function nodeBackend(): NodeBackend | undefined {
  const be = tf.backend() as unknown as Partial<NodeBackend>;
  return typeof be.getInputTensorIds === 'function' ? (be as NodeBackend) : undefined;
}

/**
 * Whether TensorFlow keeps using `view`'s memory for a tensor made from it (tfjs-node hands it the
 * array itself; TensorFlow takes it as it is when its address is aligned to TensorFlow's SIMD width,
 * and copies it otherwise). Tried with a one-element tensor at the same address.
 */
function sharesMemory(be: NodeBackend, view: Float32Array): boolean {
  const kept = view[0];
  view[0] = 0;
  const t = tf.tensor1d(view.subarray(0, 1));
  be.getInputTensorIds([t]);
  view[0] = 1;
  const shared = t.dataSync()[0] === 1;
  t.dispose();
  view[0] = kept;
  return shared;
}

/**
 * Batches of some of a dataset's images — `rows`, dataset indices — as float32 [n,H,W,C] tensors in
 * [0,1] (the same pixels as `toTensor`), for training and measuring on datasets too big to hold as
 * one float tensor: each batch is filled from the dataset's typed array into one Float32Array that
 * is reused from batch to batch, and the tensor is made from it. No tensor of the whole set, and no
 * gather kernel per batch.
 *
 * Reusing the array needs care on tfjs-node, which does not copy the array a tensor is made from:
 * (1) it hands the array to TensorFlow only when a kernel first reads the tensor — so a batch is
 * handed over at once, before the array can be refilled; (2) TensorFlow then uses the array's own
 * memory, without a copy, when its address is aligned to TensorFlow's SIMD width (a good share of
 * allocations are) — so the buffer is checked when it is made (`sharesMemory`) and, if it would be
 * shared, taken one float further in, where it cannot be aligned. Should that be shared too (another
 * TensorFlow), every batch gets an array of its own.
 */
export class BatchSource {
  /** Images this source hands out (`rows.length`). */
  readonly count: number;
  private readonly size: number;
  private buf = new Float32Array(0);
  /** Whether `buf` can be refilled once a batch made from it has been handed to TensorFlow. */
  private reusable = false;

  constructor(
    readonly ds: TrainingData,
    readonly rows: Int32Array,
    /** The largest batch expected (the buffer grows if a bigger one is asked for). */
    maxBatch: number,
  ) {
    const [h, w, c] = ds.shape;
    this.size = h * w * c;
    this.count = rows.length;
    this.allocate(Math.max(1, Math.min(maxBatch, rows.length)) * this.size);
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

  private allocate(length: number): void {
    const raw = new Float32Array(length + 1);
    const be = nodeBackend();
    this.buf = raw.subarray(0, length);
    this.reusable = false;
    if (!be) return;
    for (const offset of [0, 1]) {
      const view = raw.subarray(offset, offset + length);
      if (!sharesMemory(be, view)) {
        this.buf = view;
        this.reusable = true;
        return;
      }
    }
  }

  private batch(n: number, rowAt: (k: number) => number): tf.Tensor4D {
    if (n * this.size > this.buf.length) this.allocate(n * this.size);
    const view = this.buf.subarray(0, n * this.size);
    fillRows(this.ds, n, rowAt, view);
    const shape: [number, number, number, number] = [n, ...this.ds.shape];
    const be = this.reusable ? nodeBackend() : undefined;
    if (!be) return tf.tensor4d(view.slice(), shape); // an array of its own, never refilled
    const t = tf.tensor4d(view, shape);
    be.getInputTensorIds([t]); // TensorFlow copies it now, so the buffer can be refilled
    return t;
  }
}

/**
 * The pixels of some of a dataset's rows as they are stored — uint8 (or float for a float dataset),
 * no conversion — for the inference graph (fast/infer.ts), which scales uint8 inside: each slice is
 * a view of the dataset's array when its rows are consecutive, else the rows copied into one buffer
 * reused from slice to slice; a streamed dataset's rows come from its RowReader. Valid until the
 * next call.
 */
export class RowGather {
  private buf: Uint8Array | Float32Array | undefined;
  private readonly size: number;

  constructor(
    readonly ds: TrainingData,
    readonly rows: ArrayLike<number>,
  ) {
    const [h, w, c] = ds.shape;
    this.size = h * w * c;
  }

  /** `n` images from position `start` of `rows`. */
  slice(start: number, n: number): Uint8Array | Float32Array {
    const { rows, size } = this;
    const px = this.ds.images;
    if (!inMemory(px)) return px.readRows(n, (k) => rows[start + k]);
    const first = rows[start];
    let consecutive = true;
    for (let k = 1; k < n && consecutive; k++) consecutive = rows[start + k] === first + k;
    if (consecutive) return px.subarray(first * size, (first + n) * size);
    if (!this.buf || this.buf.length < n * size || this.buf instanceof Uint8Array !== px instanceof Uint8Array) {
      this.buf = px instanceof Uint8Array ? new Uint8Array(n * size) : new Float32Array(n * size);
    }
    const out = this.buf.subarray(0, n * size);
    for (let k = 0; k < n; k++) {
      const src = rows[start + k] * size;
      out.set(px.subarray(src, src + size), k * size);
    }
    return out;
  }
}

/**
 * Input pixels of one forward-only chunk (validation, end-of-run metrics, latent statistics,
 * evaluation): about 2 MB of float32. TensorFlow's eager convolutions take working memory in
 * proportion to their batch (~190 MB for one convolution of 128 images of 64×64×3), so 64×64 or
 * 128×128 colour pictures are run a few dozen at a time instead of a training batch or 256 at once —
 * evaluating then never needs more memory than training. 28×28 pictures still go 256 at a time.
 */
export const EVAL_CHUNK_PIXELS = 1 << 19;

/** Images per forward-only chunk for pictures of `shape` (h, w, c): at most `preferred`, at most {@link EVAL_CHUNK_PIXELS} pixels. */
export function evalBatchSize(shape: readonly number[], preferred: number): number {
  const perImage = shape.reduce((a, b) => a * b, 1);
  return Math.max(1, Math.min(preferred, Math.floor(EVAL_CHUNK_PIXELS / perImage)));
}

/**
 * Seeded split into training, validation and (optional) test indices. The validation images are the
 * same with or without a test split (the test images come from what would otherwise train), so
 * turning a test split on does not change what earlier runs validated on.
 */
export function splitIndices(
  count: number,
  validationSplit: number,
  seed: number,
  testSplit = 0,
): { train: Int32Array; val: Int32Array; test: Int32Array } {
  const p = permutation(count, seed ^ 0x5eed);
  const nVal = Math.floor(count * validationSplit);
  const nTest = Math.floor(count * testSplit);
  return { val: p.slice(0, nVal), test: p.slice(nVal, nVal + nTest), train: p.slice(nVal + nTest) };
}

/** The indices whose label is not in `exclude` (all of them when nothing is excluded). */
export function withoutLabels(
  indices: Int32Array,
  labels: ArrayLike<number> | undefined,
  exclude: readonly number[],
): Int32Array {
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
