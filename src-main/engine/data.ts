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

/** One float32 [N,H,W,C] tensor in [0,1], made from one preallocated typed array. */
export function toTensor(ds: Dataset, indices?: ArrayLike<number>): tf.Tensor4D {
  const [h, w, c] = ds.shape;
  const size = h * w * c;
  const idx = indices ?? Array.from({ length: ds.count }, (_, i) => i);
  const out = new Float32Array(idx.length * size);
  const scale = ds.images instanceof Uint8Array ? 1 / 255 : 1;
  for (let k = 0; k < idx.length; k++) {
    const src = idx[k] * size;
    for (let j = 0; j < size; j++) out[k * size + j] = ds.images[src + j] * scale;
  }
  return tf.tensor4d(out, [idx.length, h, w, c]);
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
 * One epoch's order for class-balanced sampling: `positions.length` draws (positions into the
 * training tensor), each picking a label uniformly and then one of its images uniformly, with
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
