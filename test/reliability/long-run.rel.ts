// A long run: 30 epochs of a conv autoencoder on 3,000 real MNIST digits through the engine's
// training loop: the tensor count is flat epoch after epoch and RSS grows by less than 10 %.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist, trainRun } from '../../src-main/engine';
import { tf } from '../../src-main/engine/tf';
import { tally } from './record';

describe('faults: a long run', () => {
  it('30 epochs of a conv AE: tensor count flat, RSS growth under 10 %', async () => {
    const t = tally('fault', 'long run: 30 epochs conv AE, 3,000 digits');
    try {
      await t.attempt(async () => {
        const all = loadMnist(3000, { seed: 1 });
        const dataset = {
          images: all.images.subarray(0, 3000 * 784),
          labels: all.labels?.subarray(0, 3000),
          count: 3000,
          shape: [28, 28, 1] as [number, number, number],
        };
        const tensors: number[] = [];
        const rss: number[] = [];
        const started = Date.now();
        const r = await trainRun({
          config: {
            kind: 'conv',
            inputShape: [28, 28, 1],
            latentDim: 16,
            hidden: [8, 16],
            batchSize: 128,
            epochs: 30,
            previewEvery: 10,
            seed: 3,
          },
          dataset,
          runDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ae-rel-long-')),
          onEvent: (e) => {
            if (e.type === 'checkpoint') {
              tensors.push(tf.memory().numTensors);
              rss.push(process.memoryUsage().rss);
            }
          },
        });
        expect(r.status).toBe('completed');
        expect(r.epochsDone).toBe(30);
        // the loss fell and stayed finite
        expect(r.history.loss.every(Number.isFinite)).toBe(true);
        expect(r.history.loss[29]).toBeLessThan(r.history.loss[0]);
        // after the first epoch (optimizer slots created) the tensor count never changes
        expect(new Set(tensors.slice(1)).size, `tensors per epoch: ${tensors.join(',')}`).toBe(1);
        // RSS after the warm-up (epoch 3) against the end
        const growth = rss[29] / rss[2] - 1;
        t.note(
          `tensors ${tensors[1]} flat, RSS ${(rss[2] / 2 ** 20).toFixed(0)} → ${(rss[29] / 2 ** 20).toFixed(0)} MB (${(growth * 100).toFixed(1)} %), ${Math.round((Date.now() - started) / 1000)} s`,
        );
        expect(growth, `RSS by epoch (MB): ${rss.map((x) => Math.round(x / 2 ** 20)).join(',')}`).toBeLessThan(0.1);
      });
    } finally {
      t.done();
    }
  });
});
