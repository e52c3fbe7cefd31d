// Cluster jobs train random crops (config cropSize) as the studio does (PyTorch 2.13 CPU from the
// local pip index, test/helpers/pyenv.ts; the job folder's own train.py loaded as a module by
// py/job_parity.py):
//  - train.py's crop_origin is engine/crops.ts cropOrigin bit for bit, for every row, several seeds
//    and epochs (epoch 0: the fixed crops of validation, the test split and the measures);
//  - its crop_batch cuts the same pixels as the studio's CropView;
//  - a job trains on crops, measures its test split on the fixed crops, and the imported run's
//    studio-measured test loss agrees with train.py's (the same crops, or the numbers would differ).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src-main/engine';
import { CropView, cropOrigin } from '../../src-main/engine/crops';
import { tf } from '../../src-main/engine/tf';
import { exportJob } from '../../src-main/cluster/export';
import { importJobAsRun } from '../../src-main/cluster/import';
import { TORCH_REQUIREMENTS, ensurePyEnv } from '../helpers/pyenv';
import { readNpy, writeNpy } from '../helpers/npy';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = ensurePyEnv(TORCH_REQUIREMENTS);
let work: string;

/** Runs py/job_parity.py on a job folder with named requests; resolves with its named results. */
function parity<T = unknown>(jobDir: string, requests: Record<string, unknown>): Record<string, T> {
  const req = path.join(work, `req-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const res = `${req}.out.json`;
  fs.writeFileSync(req, JSON.stringify(requests));
  const r = spawnSync(env.python, [path.join(here, 'py', 'job_parity.py'), jobDir, req, res], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (r.status !== 0) throw new Error(`job_parity.py failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(fs.readFileSync(res, 'utf8')) as Record<string, T>;
}

/** Smooth colour pictures of 40×36×3 (not square, so rows and columns cannot be swapped unseen). */
function pictures(n: number): Dataset & { images: Uint8Array } {
  const [H, W] = [40, 36];
  const images = new Uint8Array(n * H * W * 3);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const o = ((i * H + y) * W + x) * 3;
        images[o] = (128 + 100 * Math.sin((x + i) / 5)) | 0;
        images[o + 1] = (128 + 100 * Math.cos((y * (1 + (i % 3))) / 7)) | 0;
        images[o + 2] = (x * 7 + y * 3 + i) % 256;
      }
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 4), count: n, shape: [H, W, 3] };
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cluster-crops-'));
});
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('cluster jobs train random crops as the studio does', () => {
  const input = {
    kind: 'conv',
    inputShape: [16, 16, 3],
    cropSize: 16,
    hidden: [8, 16],
    latentDim: 8,
    epochs: 2,
    batchSize: 16,
    seed: 23,
    validationSplit: 0.1,
    testSplit: 0.2,
  };
  const data = pictures(120);
  let jobDir: string;

  beforeAll(async () => {
    jobDir = path.join(work, 'job');
    await exportJob({
      config: input,
      dataset: data,
      labelNames: ['a', 'b', 'c', 'd'],
      datasetSpec: null,
      datasetName: 'pictures',
      name: 'crops',
      out: jobDir,
    });
  }, 120_000);

  it('places and cuts every crop where the studio does, for each seed and epoch', () => {
    const rows = Array.from({ length: 120 }, (_, i) => i);
    const epochs = [0, 1, 2, 9];
    const seeds = [23, 0, 2 ** 31 - 1];
    const batchFile = path.join(work, 'batch.npy');
    const picked = [3, 50, 7, 119, 50];
    const size = 40 * 36 * 3;
    const batch = new Float32Array(picked.length * size);
    picked.forEach((r, k) => {
      for (let j = 0; j < size; j++) batch[k * size + j] = data.images[r * size + j] / 255;
    });
    writeNpy(batchFile, batch, [picked.length, 40, 36, 3]);
    const res = parity<unknown>(jobDir, {
      ...Object.fromEntries(
        seeds.map((seed) => [`o${seed}`, { op: 'crop-origins', seed, epochs, rows, h: 40, w: 36, size: 16 }]),
      ),
      px: {
        op: 'crop-pixels',
        batch: batchFile,
        rows: picked,
        seed: 23,
        epoch: 2,
        size: 16,
        out: path.join(work, 'crops.npy'),
      },
    });
    for (const seed of seeds) {
      const studio = epochs.flatMap((e) => rows.map((r) => cropOrigin(seed, e, r, 40, 36, 16)));
      expect(res[`o${seed}`]).toEqual(studio);
    }
    const py = readNpy(path.join(work, 'crops.npy'));
    expect(py.shape).toEqual([picked.length, 16, 16, 3]);
    const studio = new CropView(data, 16, 23, 2).images.readRows(picked.length, (k) => picked[k]);
    let maxDiff = 0;
    for (let j = 0; j < studio.length; j++) maxDiff = Math.max(maxDiff, Math.abs(py.data[j] - studio[j] / 255));
    expect(maxDiff).toBeLessThan(1e-7);
  }, 120_000);

  it('trains a job on crops; the imported run measures the test split as train.py did', async () => {
    const r = spawnSync(env.python, [path.join(jobDir, 'train.py'), '--epochs', '2'], {
      encoding: 'utf8',
      timeout: 300_000,
      cwd: jobDir,
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const done = JSON.parse(fs.readFileSync(path.join(jobDir, 'out', 'done.json'), 'utf8'));
    expect(done.test).toMatchObject({ count: 24 });
    const tensorsBefore = tf.memory().numTensors;
    const imp = await importJobAsRun(jobDir, path.join(work, 'imported'));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(imp.status).toBe('completed');
    expect(imp.config.cropSize).toBe(16);
    const t = imp.metrics!.test!;
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    console.log(
      `crops, test split of 24 after 2 epochs: train.py loss ${done.test.loss.toFixed(6)}, studio on the imported model ${t.loss.toFixed(6)} (relative diff ${rel(done.test.loss, t.loss).toExponential(2)})`,
    );
    expect(rel(done.test.loss, t.loss)).toBeLessThan(1e-4);
    expect(rel(done.test.mse, t.mse)).toBeLessThan(1e-4);
  }, 300_000);
});
