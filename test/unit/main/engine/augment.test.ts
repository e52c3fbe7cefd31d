// Augmentation: flips mirror exactly, shifts move pixels by whole steps and bring in the
// picture's nearest edge pixel (never black: a picture on white stays on white), rotations keep the picture's mass near the centre, brightness scales and clips, the same
// seed gives the same batch, no tensor is leaked; and a small dataset trains with it on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { augmentBatch, augmentIndices, edgeIndex } from '../../../../src-main/engine/augment';
import { loadMnist, trainRun } from '../../../../src-main/engine';

const OFF = { flip: false, shift: 0, rotate: 0, brightness: 0 };
const ramp = (n: number, h: number, w: number) =>
  tf.tensor4d(
    Float32Array.from({ length: n * h * w }, (_, i) => ((i % w) + 1) / (w + 1)),
    [n, h, w, 1],
  );

describe('augmentation', () => {
  const before = tf.memory().numTensors;
  afterAll(() => expect(tf.memory().numTensors).toBe(before));

  it('nothing asked: the batch is unchanged', () => {
    const x = ramp(3, 6, 8);
    const y = augmentBatch(x, OFF, 1);
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, y]);
  });

  it('flip: each image is itself or its exact mirror, about half of them mirrored', () => {
    const x = ramp(200, 4, 6);
    const y = augmentBatch(x, { ...OFF, flip: true }, 7);
    const rows = y.arraySync() as number[][][][];
    const first = rows.map((img) => img[0].map((p) => p[0]));
    const plain = (x.arraySync() as number[][][][])[0][0].map((p) => p[0]);
    const mirrored = first.filter((r) => JSON.stringify(r) === JSON.stringify([...plain].reverse())).length;
    const same = first.filter((r) => JSON.stringify(r) === JSON.stringify(plain)).length;
    expect(mirrored + same).toBe(200);
    expect(mirrored).toBeGreaterThan(70);
    expect(mirrored).toBeLessThan(130);
    tf.dispose([x, y]);
  });

  it('shift: pixels move by whole steps and the nearest edge pixel fills what comes in; same seed, same batch', () => {
    expect([-3, -1, 0, 1, 4, 5, 10].map((i) => edgeIndex(i, 5))).toEqual([0, 0, 0, 1, 4, 4, 4]);
    const { indices } = augmentIndices(50, 10, 10, { ...OFF, shift: 0.3 }, 3);
    expect(Array.from(augmentIndices(50, 10, 10, { ...OFF, shift: 0.3 }, 3).indices)).toEqual(Array.from(indices));
    expect(Array.from(augmentIndices(50, 10, 10, { ...OFF, shift: 0.3 }, 4).indices)).not.toEqual(Array.from(indices));
    // every pixel of an image comes from that image, and some images repeat a source pixel (the repeated edge)
    let repeated = 0;
    for (let k = 0; k < 50; k++) {
      const own = indices.subarray(k * 100, k * 100 + 100);
      for (const src of own) expect(Math.floor(src / 100)).toBe(k);
      if (new Set(own).size < 100) repeated++;
    }
    expect(repeated).toBeGreaterThan(40);
  });

  it('a picture on white keeps a white surround under the largest shifts and rotations (no black wedges)', () => {
    // white everywhere but a dark square in the middle, as an icon imported on white
    const h = 16;
    const px = Float32Array.from({ length: 30 * h * h * 3 }, (_, i) => {
      const p = Math.floor(i / 3) % (h * h);
      const y = Math.floor(p / h);
      const x = p % h;
      return x >= 6 && x < 10 && y >= 6 && y < 10 ? 0.1 : 1;
    });
    const x = tf.tensor4d(px, [30, h, h, 3]);
    const y = augmentBatch(x, { ...OFF, shift: 0.3, rotate: 45 }, 11);
    const d = y.dataSync();
    for (let k = 0; k < 30; k++)
      for (const [cy, cx] of [
        [0, 0],
        [0, h - 1],
        [h - 1, 0],
        [h - 1, h - 1],
      ])
        expect(d[((k * h + cy) * h + cx) * 3], `image ${k} corner ${cy},${cx}`).toBe(1);
    expect(Math.min(...d)).toBeCloseTo(0.1, 5); // the dark square is still there
    tf.dispose([x, y]);
  });

  it('rotate and brightness: values stay in 0..1, brightness scales per image', () => {
    const x = tf.fill([20, 12, 12, 1], 0.8) as tf.Tensor4D;
    const y = augmentBatch(x, { ...OFF, rotate: 30, brightness: 0.5 }, 5);
    const d = y.dataSync();
    expect(Math.min(...d)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...d)).toBeLessThanOrEqual(1);
    const centres = Array.from({ length: 20 }, (_, k) => d[k * 144 + 6 * 12 + 6]);
    expect(new Set(centres.map((v) => v.toFixed(3))).size).toBeGreaterThan(5); // different gains
    tf.dispose([x, y]);
  });

  it('a small dataset trains with augmentation on (both training paths), without leaking tensors', async () => {
    const digits = loadMnist(200, { seed: 9 });
    for (const fast of ['1', '0']) {
      process.env.AE_FAST_STEP = fast;
      const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-aug-'));
      const n = tf.memory().numTensors;
      const r = await trainRun({
        config: {
          kind: 'dense',
          inputShape: [28, 28, 1],
          latentDim: 16,
          epochs: 3,
          batchSize: 50,
          augment: { flip: true, shift: 0.1, rotate: 10, brightness: 0.2 },
        },
        dataset: digits,
        runDir,
      });
      expect(r.status, r.message).toBe('completed');
      expect(r.history.loss[2]).toBeLessThan(r.history.loss[0]);
      expect(tf.memory().numTensors).toBe(n);
      expect(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')).augment).toEqual({
        flip: true,
        shift: 0.1,
        rotate: 10,
        brightness: 0.2,
      });
    }
    delete process.env.AE_FAST_STEP;
  });
});
