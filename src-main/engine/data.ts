// Datasets as the engine sees them: uint8 (0..255) or float (0..1) pixels, N×H×W×C, optional labels.
import { tf } from './tf';
import { permutation } from './rng';

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

/** Seeded split into training and validation indices. */
export function splitIndices(count: number, validationSplit: number, seed: number): { train: Int32Array; val: Int32Array } {
  const p = permutation(count, seed ^ 0x5eed);
  const nVal = Math.floor(count * validationSplit);
  return { val: p.slice(0, nVal), train: p.slice(nVal) };
}

export { loadMnist } from './mnist';
