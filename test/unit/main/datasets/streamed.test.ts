// Training on a stored dataset that stays in its file (datasets/store.ts openDataset, RowFile): the
// rows read from the file are the stored pixels, a run trained that way is the same run as one on
// the images in memory, and a file cut short while a run reads it stops the run in plain words.
// Real files in a temp workspace, the real trainer code path (trainer/runs.ts openRunDataset).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../../../src-main/engine/tf';
import { BatchSource, toTensor, trainRun } from '../../../../src-main/engine';
import {
  loadDataset,
  openDataset,
  RowFile,
  STREAM_ABOVE_BYTES,
  writeDataset,
} from '../../../../src-main/datasets/store';
import { openRunDataset } from '../../../../src-main/trainer/runs';
import { mnist } from '../engine/helpers';

const dirs: string[] = [];
const tmp = (name: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `ae-stream-${name}-`));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** 300 real digits as 16×16×3 colour pictures (three channels that differ), stored in a workspace. */
async function stored(): Promise<{ ws: string; id: string }> {
  const src = mnist(300);
  const S = 16;
  const images = new Uint8Array(300 * S * S * 3);
  for (let k = 0; k < 300; k++)
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const v = src.images[k * 784 + (2 * y - 2) * 28 + (2 * x - 2)] ?? 0; // a 2× downscale, shifted by one pixel
        const o = ((k * S + y) * S + x) * 3;
        images.set([v, 255 - v, (v * 7) % 256], o);
      }
  const ws = tmp('ws');
  const labels = Int32Array.from(src.labels!);
  const m = await writeDataset(
    ws,
    'colour digits',
    { images, labels, labelNames: Array.from({ length: 10 }, (_, i) => `digit ${i}`), shape: [S, S, 3], count: 300 },
    { kind: 'import', paths: [] },
  );
  return { ws, id: m.id };
}

describe('a stored dataset read from its file', () => {
  it('keeps small datasets in memory and leaves big ones in the file', async () => {
    const { ws, id } = await stored();
    const small = openDataset(ws, id);
    expect(small.images).toBeInstanceOf(Uint8Array); // 230 kB, far under STREAM_ABOVE_BYTES
    expect(STREAM_ABOVE_BYTES).toBeGreaterThan(47e6); // 60,000 MNIST digits stay in memory
    small.close();
    const big = openDataset(ws, id, 0);
    expect(big.images).toBeInstanceOf(RowFile);
    expect(big.manifest.name).toBe('colour digits');
    big.close();
  });

  it('reads exactly the stored rows, in any order, runs of consecutive rows included', async () => {
    const { ws, id } = await stored();
    const mem = loadDataset(ws, id);
    const size = 16 * 16 * 3;
    const file = new RowFile(path.join(ws, 'datasets', id, 'images.u8'), size, 300);
    const rows = [7, 8, 9, 10, 299, 0, 1, 150, 150, 42, 298, 299];
    const got = file.readRows(rows.length, (k) => rows[k]);
    expect(got.length).toBe(rows.length * size);
    rows.forEach((r, k) =>
      expect(
        Buffer.from(got.subarray(k * size, (k + 1) * size)).equals(
          Buffer.from(mem.images.subarray(r * size, (r + 1) * size)),
        ),
      ).toBe(true),
    );
    expect(() => file.readRows(1, () => 300)).toThrow(/outside the dataset/);
    file.close();
    expect(() => file.readRows(1, () => 0)).toThrow(/closed/);
  });

  it('gives batches with the same float pixels as the dataset in memory', async () => {
    const { ws, id } = await stored();
    const mem = loadDataset(ws, id);
    const streamed = openDataset(ws, id, 0);
    const rows = Int32Array.from([5, 299, 0, 17, 18, 19, 3, 250]);
    const a = new BatchSource(mem, rows, 4);
    const b = new BatchSource(streamed, rows, 4);
    const pairs = [
      [a.gather([7, 0, 3, 4]), b.gather([7, 0, 3, 4])],
      [a.slice(2, 6), b.slice(2, 6)],
      [toTensor(mem, rows), toTensor(streamed, rows)],
    ];
    for (const [x, y] of pairs) expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose(pairs.flat());
    streamed.close();
  });

  it('trains the same run as the images in memory: same losses, same end metrics, tensors flat', async () => {
    const { ws, id } = await stored();
    const config = {
      kind: 'conv',
      inputShape: [16, 16, 3],
      hidden: [8, 16],
      latentDim: 8,
      batchSize: 32,
      epochs: 2,
      seed: 3,
      validationSplit: 0.2,
      testSplit: 0.1,
      previewEvery: 100,
    };
    const inMemory = loadDataset(ws, id);
    const a = await trainRun({ config, dataset: inMemory, runDir: tmp('run-mem') });
    const before = tf.memory().numTensors;
    const streamed = openDataset(ws, id, 0);
    expect(streamed.images).toBeInstanceOf(RowFile);
    const tensors: number[] = [];
    const b = await trainRun({
      config,
      dataset: streamed,
      runDir: tmp('run-file'),
      onEvent: (e) => e.type === 'epoch' && tensors.push(tf.memory().numTensors),
    });
    streamed.close();
    expect(a.status, a.message).toBe('completed');
    expect(b.status, b.message).toBe('completed');
    expect(b.history.loss).toEqual(a.history.loss);
    expect(b.history.valLoss).toEqual(a.history.valLoss);
    expect(b.metrics).toEqual(a.metrics);
    expect(a.history.loss[1]).toBeLessThan(a.history.loss[0]); // it did train
    expect(new Set(tensors).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the trainer streams a big stored dataset, honours a run's image count, and releases the file", async () => {
    const { ws, id } = await stored();
    const d = openRunDataset({ id, count: 120 }, ws, 0);
    expect(d.images).toBeInstanceOf(RowFile);
    expect(d.count).toBe(120);
    expect(d.labels?.length).toBe(120);
    d.close();
    const mem = openRunDataset({ id }, ws);
    expect(mem.images).toBeInstanceOf(Uint8Array);
    expect(mem.count).toBe(300);
    mem.close();
  });

  it('a file cut short while a run reads it stops the run with a message saying so, and the checkpoint stays', async () => {
    const { ws, id } = await stored();
    const file = path.join(ws, 'datasets', id, 'images.u8');
    const streamed = openDataset(ws, id, 0);
    const runDir = tmp('run-cut');
    const config = {
      kind: 'dense',
      inputShape: [16, 16, 3],
      hidden: [16],
      latentDim: 4,
      batchSize: 30,
      epochs: 3,
      seed: 1,
      validationSplit: 0.1,
      previewEvery: 100,
    };
    const before = tf.memory().numTensors;
    const r = await trainRun({
      config,
      dataset: streamed,
      runDir,
      onEvent: (e) => {
        if (e.type === 'checkpoint' && e.epoch === 1) fs.truncateSync(file, 10 * 16 * 16 * 3); // another program cuts the file
      },
    }).catch((e: Error) => ({ status: 'threw', message: e.message }));
    streamed.close();
    const message = 'message' in r ? r.message : '';
    expect(message).toMatch(/image file .* ended early/);
    expect(fs.existsSync(path.join(runDir, 'checkpoint', 'state.json'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoint', 'state.json'), 'utf8')).epochsDone).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});
