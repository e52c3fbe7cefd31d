// Shared by the engine tests: real MNIST, temp run folders, the mean-image baseline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadMnist, type Dataset } from '../../../../src-main/engine';

let cached: Dataset | undefined;
/** The first n of the 10,000 real MNIST digits in the `mnist` package (fixed order). */
export function mnist(n: number): Dataset {
  cached ??= loadMnist(10_000, { seed: 1 });
  const d = cached;
  return { images: d.images.subarray(0, n * 784), labels: d.labels?.subarray(0, n), count: n, shape: [28, 28, 1] };
}

export function tmpRunDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ae-${name}-`));
}

/** MSE of predicting every validation image by the mean training image (the trivial baseline). */
export function meanImageBaseline(ds: Dataset, trainIdx: ArrayLike<number>, valIdx: ArrayLike<number>): number {
  const size = 784;
  const mean = new Float64Array(size);
  for (let k = 0; k < trainIdx.length; k++)
    for (let j = 0; j < size; j++) mean[j] += ds.images[trainIdx[k] * size + j] / 255 / trainIdx.length;
  let s = 0;
  for (let k = 0; k < valIdx.length; k++)
    for (let j = 0; j < size; j++) s += (ds.images[valIdx[k] * size + j] / 255 - mean[j]) ** 2;
  return s / (valIdx.length * size);
}
