// `npm run bench` (datasets part): import speed of 10,000 small PNG files (generated here first,
// not timed) through the real pipeline, and loading a 60,000-image 28×28 dataset from the store
// into a training tensor. Prints RESULT lines like the training bench.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src-main/engine/tf';
import { importPaths } from '../../src-main/datasets/import';
import { loadDataset, writeDataset } from '../../src-main/datasets/store';
import { makeBuiltin } from '../../src-main/datasets/builtins';
import { toTensor } from '../../src-main/engine/data';

const N = Number(process.env.BENCH_IMPORT_FILES ?? 10_000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-import-'));
try {
  const mnist = makeBuiltin('mnist');
  for (let c = 0; c < 10; c++) fs.mkdirSync(path.join(tmp, 'pngs', String(c)), { recursive: true });
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < N; i += 8) {
        const k = i % mnist.count;
        const png = await sharp(Buffer.from(mnist.images.subarray(k * 784, (k + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } })
          .png()
          .toBuffer();
        fs.writeFileSync(path.join(tmp, 'pngs', String(mnist.labels[k]), `${i}.png`), png);
      }
    }),
  );
  const t0 = performance.now();
  const { report } = await importPaths([path.join(tmp, 'pngs')], { size: 28, mode: 'grayscale', fit: 'stretch' });
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `RESULT ${JSON.stringify({ bench: 'import-png', files: N, imported: report.imported, skipped: report.skipped.length, seconds: Number(secs.toFixed(3)), images_per_s: Math.round(report.imported / secs) })}`,
  );

  // 60,000 images: the built-in MNIST six times over.
  const big = new Uint8Array(60_000 * 784);
  const labels = new Int32Array(60_000);
  for (let r = 0; r < 6; r++) {
    big.set(mnist.images, r * mnist.images.length);
    labels.set(mnist.labels, r * mnist.count);
  }
  const ws = path.join(tmp, 'ws');
  const m = await writeDataset(ws, 'sixty thousand', { images: big, labels, labelNames: mnist.labelNames, shape: [28, 28, 1], count: 60_000 }, { kind: 'builtin', builtin: 'mnist' });
  const t1 = performance.now();
  const ds = loadDataset(ws, m.id);
  const tensor = toTensor(ds);
  const loadMs = performance.now() - t1;
  console.log(`RESULT ${JSON.stringify({ bench: 'store-load-60k', images: ds.count, tensor_shape: tensor.shape, ms: Math.round(loadMs) })}`);
  tensor.dispose();
  void tf;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
