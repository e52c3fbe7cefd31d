// `npm run bench:crops`: what random-crop training (config cropSize, engine/crops.ts) costs. Trains
// the inspection preset's model (conv 32-64-128, 64-d code, batch 16) through the real trainRun for
// BENCH_CROPS_EPOCHS epochs (default 3) on 600 procedural textures (test/helpers/defects.ts), three
// ways: 64 px crops of 256 px pictures held in memory, the same streamed from the dataset's file as
// the trainer streams big datasets (a RowFile, openDataset with no size limit), and whole 64 px
// pictures (the same textures drawn at 64 px) — the baseline with no cropping. Prints samples/s of
// the training steps (the epoch's own rate) for each, median over the epochs after the first.
//   tsx test/bench/crops.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainRun, type Dataset, type TrainingData } from '../../src-main/engine';
import { openDataset, writeDataset } from '../../src-main/datasets/store';
import { mulberry32 } from '../../src-main/engine/rng';
import { texture } from '../helpers/defects';

const N = 600;
const EPOCHS = Number(process.env.BENCH_CROPS_EPOCHS ?? 3);

function textures(size: number): Dataset & { images: Uint8Array } {
  const rand = mulberry32(5);
  const images = new Uint8Array(N * size * size);
  for (let i = 0; i < N; i++)
    images.set(
      Uint8Array.from(texture('weave', size, 1, rand), (v) => Math.round(Math.max(0, Math.min(1, v)) * 255)),
      i * size * size,
    );
  return { images, count: N, shape: [size, size, 1] };
}

async function rate(name: string, config: object, dataset: TrainingData): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-crops-'));
  const rates: number[] = [];
  const r = await trainRun({
    config,
    dataset,
    runDir: dir,
    onEvent: (e) => e.type === 'epoch' && rates.push(e.samplesPerSec),
  });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 'completed') throw new Error(`${name}: ${r.message}`);
  const later = rates.slice(1).sort((a, b) => a - b);
  const median = later[Math.floor(later.length / 2)] ?? rates[0];
  console.log(`RESULT ${name}: ${median.toFixed(0)} samples/s (epochs: ${rates.map((x) => x.toFixed(0)).join(', ')})`);
}

const model = {
  kind: 'conv',
  hidden: [32, 64, 128],
  latentDim: 64,
  batchSize: 16,
  epochs: EPOCHS,
  validationSplit: 0.1,
  previewEvery: 1_000_000,
};
const big = textures(256);
await rate('64 px crops of 256 px pictures, in memory', { ...model, inputShape: [64, 64, 1], cropSize: 64 }, big);
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-crops-ws-'));
const m = await writeDataset(
  ws,
  'textures',
  { images: big.images, labels: new Int32Array(N), labelNames: ['texture'], shape: [256, 256, 1], count: N },
  { kind: 'import', paths: [] },
);
const streamed = openDataset(ws, m.id, 0);
await rate(
  '64 px crops of 256 px pictures, streamed from the file',
  { ...model, inputShape: [64, 64, 1], cropSize: 64 },
  streamed,
);
streamed.close();
fs.rmSync(ws, { recursive: true, force: true });
await rate('whole 64 px pictures (no cropping)', { ...model, inputShape: [64, 64, 1] }, textures(64));
