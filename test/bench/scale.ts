// Part of `npm run bench`: training on a big dataset without float copies of it. Writes 60,000
// 64×64 RGB images (uint8, 737 MB) to a temporary workspace with the real dataset store, then — in a
// fresh process, so the peak RSS is the training's — opens it as the trainer does (openRunDataset:
// a dataset this big stays in its file and each batch is read from it) and trains a small conv
// autoencoder on it through the real trainRun (batch 128, 10 % validation, one epoch;
// BENCH_SCALE_EPOCHS=n for more; BENCH_SCALE_IN_MEMORY=1 reads the whole file into memory first, as
// the trainer does for datasets under 256 MB, to compare). Prints one RESULT line: the dataset's uint8 size, the
// model's size, the peak RSS against the budget (dataset + model + 500 MB), the peak of the run's
// anonymous memory against the same budget (RSS less TensorFlow's library code mapped from disk,
// Linux only), the tensor count at every epoch's end (flat: nothing leaks), samples/s; then it
// evaluates the trained run on the same dataset, still read from its file a chunk at a time (the
// Gallery's evaluation: every held-out image's error, codes, probes; BENCH_SCALE_EVALUATE=0 skips
// it) and reports its time, its stages and the peak RSS with it (the same budget). The child
// runs as the trainer ships: bundled by esbuild, under plain Node, with the trainer's allocator settings. MB are 2^20 bytes throughout
// (RSS as well): the 737,280,000-byte dataset prints as 703.
//   tsx test/bench/scale.ts
//   BENCH_SCALE_EPOCHS=2 tsx test/bench/scale.ts
//   BENCH_SCALE_IN_MEMORY=1 tsx test/bench/scale.ts
//   BENCH_SCALE_N=6000 BENCH_SCALE_EVALUATE=1 tsx test/bench/scale.ts   (a quick check that it runs)
//
// The images: the 10,000 MNIST digits of the `mnist` package, each upscaled 2× (56×56) as in the
// training bench's model D (R = digit, G = digit mirrored left–right, B = 255 − digit), placed at six
// different offsets in the 64×64 frame — 60,000 distinct pictures, labels 0–9.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildAutoencoder,
  loadMnist,
  parameterCount,
  trainRun,
  validateConfig,
  type ModelConfigInput,
} from '../../src-main/engine';
import { tf } from '../../src-main/engine/tf';
import { STREAM_ABOVE_BYTES, writeDataset } from '../../src-main/datasets/store';
import { openRunDataset } from '../../src-main/trainer/runs';
import { evaluateModel } from '../../src-main/engine/evaluate';
import { glibcTunables } from '../../src-main/engine/allocator';
import { loadTrained } from '../../src-main/engine/trained-model';

const N = Number(process.env.BENCH_SCALE_N ?? 60_000);
const S = 64;
const EPOCHS = Number(process.env.BENCH_SCALE_EPOCHS ?? 1);
const OVERHEAD_MB = 500;
const IN_MEMORY = process.env.BENCH_SCALE_IN_MEMORY === '1';
const NO_EVALUATE = process.env.BENCH_SCALE_EVALUATE === '0';
/**
 * The model's memory: every parameter as float32, five times — the model's weights, the fast
 * step's own copy of them, Adam's two moment slots and one gradient.
 */
const PARAM_COPIES = 5;
const CONFIG: ModelConfigInput = {
  kind: 'conv',
  inputShape: [S, S, 3],
  hidden: [16, 32, 64],
  latentDim: 64,
  loss: 'mse',
  optimizer: 'adam',
  learningRate: 1e-3,
  batchSize: 128,
  validationSplit: 0.1,
  epochs: EPOCHS,
  previewEvery: 100,
  seed: 1,
};
const mb = (bytes: number) => bytes / 2 ** 20;
/** Resident memory by kind (Linux): anonymous (heap, tensors, the dataset) and file-backed (mapped library code). */
function rssKinds(): { anon: number; file: number } | undefined {
  try {
    const s = fs.readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) / 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return undefined;
  }
}

/** The 60,000 pictures, uint8 N×64×64×3, and their labels. */
function makeImages(): { images: Uint8Array; labels: Int32Array } {
  const digits = loadMnist(10_000, { seed: 12345 }); // uint8
  const images = new Uint8Array(N * S * S * 3);
  const labels = new Int32Array(N);
  for (let k = 0; k < N; k++) {
    const d = k % digits.count;
    const v = Math.floor(k / digits.count); // 0..5: where the 56×56 digit sits
    const oy = v < 3 ? 2 : 6;
    const ox = 1 + 3 * (v % 3);
    labels[k] = digits.labels![d];
    const px = digits.images.subarray(d * 784, (d + 1) * 784);
    const g = (y: number, x: number) => {
      const yy = y - oy;
      const xx = x - ox;
      return yy < 0 || xx < 0 || yy >= 56 || xx >= 56 ? 0 : px[(yy >> 1) * 28 + (xx >> 1)];
    };
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const o = ((k * S + y) * S + x) * 3;
        images[o] = g(y, x);
        images[o + 1] = g(y, S - 1 - x);
        images[o + 2] = 255 - g(y, x);
      }
  }
  return { images, labels };
}

/** The child process: load the stored dataset and train on it; prints the RESULT line. */
async function train(ws: string, id: string): Promise<void> {
  // tfjs-node's TensorFlow library alone makes ~350 MB resident (~300 MB of it its code, mapped from disk): the process before any data.
  const rssAtStart = mb(process.memoryUsage().rss);
  const t0 = performance.now();
  const ds = openRunDataset({ id }, ws, IN_MEMORY ? Infinity : STREAM_ABOVE_BYTES);
  const loadSec = (performance.now() - t0) / 1000;
  const checked = validateConfig(CONFIG, { count: ds.count, shape: ds.shape });
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  const probe = buildAutoencoder(checked.config);
  const params = parameterCount(probe);
  probe.encoder.dispose();
  probe.decoder.dispose();

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-scale-run-'));
  const tensorsBefore = tf.memory().numTensors;
  const tensors: number[] = [];
  const rates: number[] = [];
  let maxTensorBytes = 0;
  // Anonymous and file-backed resident memory, sampled every 5 ms while the run awaits and at every batch.
  const kinds = { anon: 0, file: 0 };
  const sample = () => {
    const k = rssKinds();
    if (k) {
      kinds.anon = Math.max(kinds.anon, k.anon);
      kinds.file = Math.max(kinds.file, k.file);
    }
  };
  const sampler = setInterval(sample, 5);
  const rss = { loaded: mb(process.memoryUsage().rss), training: 0, end: 0 };
  const t1 = performance.now();
  const r = await trainRun({
    config: CONFIG,
    dataset: ds,
    runDir,
    batchEventMs: 0,
    onEvent: (e) => {
      maxTensorBytes = Math.max(maxTensorBytes, tf.memory().numBytes);
      if (e.type === 'batch') {
        rss.training = Math.max(rss.training, mb(process.memoryUsage().rss));
        sample();
      }
      if (e.type === 'epoch') {
        tensors.push(tf.memory().numTensors);
        rates.push(e.samplesPerSec);
        console.log(
          `epoch ${e.epoch}/${e.epochs}: loss ${e.loss.toFixed(5)}, validation ${e.valLoss?.toFixed(5)}, ${Math.round(e.samplesPerSec)} samples/s`,
        );
      }
    },
  });
  const runSec = (performance.now() - t1) / 1000;
  clearInterval(sampler);
  sample();
  if (r.status !== 'completed') throw new Error(`the run ${r.status}: ${r.message}`);
  const peakTrainingRssMb = mb(process.resourceUsage().maxRSS * 1024);
  const trainingAnonMb = kinds.anon;

  // The Gallery's evaluation of the trained run on the same dataset, read from its file a chunk at a
  // time (engine/evaluate on the inference graph): every image's reconstruction error, codes and the probes.
  let evaluation: Record<string, unknown> | undefined;
  if (!NO_EVALUATE) {
    const trained = await loadTrained(runDir);
    const tensorsBeforeEval = tf.memory().numTensors;
    const stages: Record<string, number> = {};
    let stageAt = performance.now();
    let stageName = '';
    const t2 = performance.now();
    const e = await evaluateModel(trained.ae, trained.config, ds, {
      onStage: (name) => {
        sample();
        if (stageName) stages[stageName] = Number(((performance.now() - stageAt) / 1000).toFixed(1));
        stageName = name;
        stageAt = performance.now();
      },
    });
    sample();
    if (stageName) stages[stageName] = Number(((performance.now() - stageAt) / 1000).toFixed(1));
    const evalSec = (performance.now() - t2) / 1000;
    evaluation = {
      inference_path: trained.inferencePath,
      scored_images: e.counts.scored,
      eval_s: Number(evalSec.toFixed(1)),
      stages_s: stages,
      reconstruction: {
        mse: Number(e.reconstruction.mse.toPrecision(4)),
        ssim: Number(e.reconstruction.ssim.toPrecision(4)),
      },
      probe_rows: e.probes ? { train: e.probes.trainRows, held_out: e.probes.testRows } : null,
      peak_rss_mb_including_training: Math.round(mb(process.resourceUsage().maxRSS * 1024)),
      tensors_flat: tf.memory().numTensors === tensorsBeforeEval,
    };
    console.log(`evaluated ${e.counts.scored} images in ${evalSec.toFixed(1)} s (${JSON.stringify(stages)})`);
    trained.dispose();
  }
  fs.rmSync(runDir, { recursive: true, force: true });
  ds.close();

  const datasetMb = mb(ds.count * S * S * 3);
  const modelMb = mb(params * 4 * PARAM_COPIES);
  const peakRssMb = mb(process.resourceUsage().maxRSS * 1024);
  const budgetMb = datasetMb + modelMb + OVERHEAD_MB;
  const splitFloatMb = mb(Math.round(ds.count * (1 - CONFIG.validationSplit!)) * S * S * 3 * 4);
  const flat = tensors.every((n) => n === tensors[0]) && tf.memory().numTensors === tensorsBefore;
  const result = {
    dataset: `${ds.count}×${ds.shape.join('×')} uint8`,
    // read from the file batch by batch (the operating system's file cache holds it, outside the process), or held in memory
    dataset_read: ds.images instanceof Uint8Array ? 'in memory' : 'from its file, batch by batch',
    dataset_uint8_mb: Math.round(datasetMb),
    model_params: params,
    model_mb: Number(modelMb.toFixed(1)),
    model_mb_counts: `params × 4 B × ${PARAM_COPIES} (weights, fast-step copy, Adam m and v, gradient)`,
    peak_rss_mb: Math.round(peakRssMb),
    peak_rss_mb_training: Math.round(peakTrainingRssMb),
    peak_anonymous_mb_training: Math.round(trainingAnonMb),
    budget_mb: Math.round(budgetMb),
    pass: peakRssMb <= budgetMb,
    // the same budget for what the run adds to the process as it was before loading anything
    // RSS counts TensorFlow's library code mapped from disk (~300 MB whatever the dataset; shared
    // and reclaimable); the run's own memory is the anonymous part (dataset, tensors, heap)
    peak_anonymous_mb: Math.round(kinds.anon),
    pass_anonymous: kinds.anon > 0 && kinds.anon <= budgetMb,
    library_code_mb: Math.round(kinds.file),
    rss_mb: {
      runtime: Math.round(rssAtStart),
      dataset_loaded: Math.round(rss.loaded),
      training_max: Math.round(rss.training),
      peak: Math.round(peakRssMb),
    },
    training_split_as_float32_mb: Math.round(splitFloatMb),
    max_tensor_bytes_mb: Number(mb(maxTensorBytes).toFixed(1)),
    tensors_before: tensorsBefore,
    tensors_per_epoch: tensors,
    tensors_after: tf.memory().numTensors,
    tensors_flat: flat,
    samples_per_s: Math.round(rates[rates.length - 1]),
    epochs: r.epochsDone,
    final_loss: Number(r.history.loss.at(-1)?.toPrecision(5)),
    final_val_loss: Number(r.history.valLoss.at(-1)?.toPrecision(5)),
    step_path: r.step?.step,
    load_s: Number(loadSec.toFixed(1)),
    run_s: Number(runSec.toFixed(1)),
    evaluation,
    load_avg_1m: Number(os.loadavg()[0].toFixed(2)),
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
  if (!flat || evaluation?.tensors_flat === false) process.exitCode = 1; // a leak fails the bench; the budget verdicts are reported
}

/**
 * The training child as the studio ships it: esbuild bundles this file the way the trainer is
 * bundled (CommonJS, npm packages external) and plain Node runs it — no TypeScript loader, whose
 * compiler and module cache would add ~170 MB to a process the user never runs.
 */
async function bundleSelf(): Promise<string> {
  const { build } = await import('esbuild');
  const self = fileURLToPath(import.meta.url);
  const out = path.join(path.dirname(self), '..', '..', 'node_modules', '.cache', 'ae-studio-bench', 'scale.cjs');
  await build({
    entryPoints: [self],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'warning',
    banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__import_meta_url' },
  });
  return out;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--train') return train(process.argv[3], process.argv[4]);
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-scale-ws-'));
  try {
    const t0 = performance.now();
    let made: { images: Uint8Array; labels: Int32Array } | undefined = makeImages();
    const labelNames = Array.from({ length: 10 }, (_, i) => String(i));
    const m = await writeDataset(
      ws,
      'scale bench',
      { images: made.images, labels: made.labels, labelNames, shape: [S, S, 3], count: N },
      { kind: 'import', paths: [] },
    );
    made = undefined;
    console.log(
      `wrote ${N} images (${Math.round(mb(N * S * S * 3))} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s; training in a fresh process…`,
    );
    // A fresh process, so its peak RSS is the training's alone.
    const child = spawnSync(process.execPath, [await bundleSelf(), '--train', ws, m.id], {
      stdio: 'inherit',
      env: { ...process.env, GLIBC_TUNABLES: glibcTunables() },
    });
    if (child.status !== 0) process.exitCode = child.status ?? 1;
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
