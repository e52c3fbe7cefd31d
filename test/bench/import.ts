// `npm run bench` (datasets part). Prints RESULT lines like the training bench, then a summary line.
//
// 1. Import speed: 10,000 small PNG files (28×28 grayscale, in 10 label sub-folders) are generated
//    once, not timed, then imported RUNS times (3 by default) through the real pipeline
//    (`importPaths`: walk, read, decode, assemble); one RESULT line per run, the summary gives the
//    median images/s. The files stay in the page cache between runs, as they do after a first look.
//    Each run also checks the imported pixels against the source (pixels_match; exit code 1 if not).
// 2. Store load: a 60,000-image 28×28 dataset written to the store, then `loadDataset` — the uint8
//    images and int32 labels in memory, which is what training starts from (batches are made from
//    them one at a time; no float copy of the whole dataset). Reported as `load_ms`. To keep the
//    time to the first batch honest, `first_batch_ms` is `loadDataset` plus the seeded split and
//    the first float batch (128 images) made with `toTensor`, as training makes it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src-main/engine/tf';
import { importPaths } from '../../src-main/datasets/import';
import { loadDataset, writeDataset } from '../../src-main/datasets/store';
import { makeBuiltin } from '../../src-main/datasets/builtins';
import { splitIndices, toTensor } from '../../src-main/engine/data';

const N = Number(process.env.BENCH_IMPORT_FILES ?? 10_000);
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-import-'));
try {
  const mnist = makeBuiltin('mnist');
  for (let c = 0; c < 10; c++) fs.mkdirSync(path.join(tmp, 'pngs', String(c)), { recursive: true });
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < N; i += 8) {
        const k = i % mnist.count;
        const png = await sharp(Buffer.from(mnist.images.subarray(k * 784, (k + 1) * 784)), {
          raw: { width: 28, height: 28, channels: 1 },
        })
          .toColourspace('b-w') // a grayscale PNG (sharp writes RGB from one raw channel otherwise)
          .png()
          .toBuffer();
        fs.writeFileSync(path.join(tmp, 'pngs', String(mnist.labels[k]), `${i}.png`), png);
      }
    }),
  );

  // Every imported pixel must be the source's (PNG is lossless and the size already matches): the
  // sums agree whatever order the files were imported in.
  let expectedSum = 0;
  for (let i = 0; i < N; i++)
    for (const v of mnist.images.subarray((i % mnist.count) * 784, ((i % mnist.count) + 1) * 784)) expectedSum += v;
  const rates: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const t0 = performance.now();
    const { dataset, report } = await importPaths([path.join(tmp, 'pngs')], {
      size: 28,
      mode: 'grayscale',
      fit: 'stretch',
    });
    const secs = (performance.now() - t0) / 1000;
    const rate = Math.round(report.imported / secs);
    rates.push(rate);
    let sum = 0;
    for (const v of dataset.images) sum += v;
    if (sum !== expectedSum) process.exitCode = 1;
    console.log(
      `RESULT ${JSON.stringify({ bench: 'import-png', run, files: N, imported: report.imported, skipped: report.skipped.length, seconds: Number(secs.toFixed(3)), images_per_s: rate, pixels_match: sum === expectedSum, load_avg_1m: Number(os.loadavg()[0].toFixed(2)) })}`,
    );
  }

  // 60,000 images: the built-in MNIST six times over.
  const big = new Uint8Array(60_000 * 784);
  const labels = new Int32Array(60_000);
  for (let r = 0; r < 6; r++) {
    big.set(mnist.images, r * mnist.images.length);
    labels.set(mnist.labels, r * mnist.count);
  }
  const ws = path.join(tmp, 'ws');
  const m = await writeDataset(
    ws,
    'sixty thousand',
    { images: big, labels, labelNames: mnist.labelNames, shape: [28, 28, 1], count: 60_000 },
    { kind: 'builtin', builtin: 'mnist' },
  );
  const t1 = performance.now();
  const ds = loadDataset(ws, m.id);
  const loadMs = performance.now() - t1;
  const split = splitIndices(ds.count, 0.1, 42);
  const batch = toTensor(ds, split.train.subarray(0, 128));
  batch.dataSync(); // the batch really exists before the clock stops
  const firstBatchMs = performance.now() - t1;
  console.log(
    `RESULT ${JSON.stringify({ bench: 'store-load-60k', images: ds.count, load_ms: Math.round(loadMs), first_batch_ms: Math.round(firstBatchMs), batch_shape: batch.shape })}`,
  );
  batch.dispose();

  console.log(
    JSON.stringify({
      bench: 'import',
      backend: tf.getBackend(),
      threads: os.availableParallelism(),
      load_avg_1m: Number(os.loadavg()[0].toFixed(2)),
      import_images_per_s: rates,
      median_import_images_per_s: median(rates),
      store_load_60k_ms: Math.round(loadMs),
      store_first_batch_ms: Math.round(firstBatchMs),
    }),
  );
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
