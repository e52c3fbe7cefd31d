// SSIM as a training objective: the loss is 1 − the studio's SSIM metric (or its mix with MSE), its
// gradient flows, a run with it trains on the graph step and says so, its loss falls, it resumes,
// no tensor is left behind, and a cluster job takes it (train.py's parity: test/integration/cluster-parity.test.ts).
// The fast and graph steps' hand-written gradient against tfjs's: fast/ssim.test.ts.
import { describe, expect, it } from 'vitest';
import { reconstructionLoss, ssimPerImage, trainRun, validateConfig, type RunEvent } from '../../../../src-main/engine';
import { tf } from '../../../../src-main/engine/tf';
import { exportJob } from '../../../../src-main/cluster/export';
import { tmpRunDir } from './helpers';
import { mulberry32 } from '../../../../src-main/engine/rng';

/** n textured 16 × 16 grey pictures. */
function textures(n: number, seed = 1) {
  const rand = mulberry32(seed);
  const images = new Uint8Array(n * 256);
  for (let i = 0; i < n; i++) {
    const f = 0.4 + rand();
    for (let p = 0; p < 256; p++)
      images[i * 256 + p] = Math.round(
        255 * (0.5 + 0.35 * Math.sin(f * (p % 16) + 0.8 * Math.floor(p / 16)) + 0.1 * (rand() - 0.5)),
      );
  }
  return { images, labels: new Int32Array(n), count: n, shape: [16, 16, 1] as [number, number, number] };
}

describe('SSIM objective', () => {
  it('is 1 − mean SSIM (and the weighted mix with MSE), with a finite, non-zero gradient', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const a = tf.randomUniform([3, 16, 16, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
      const b = tf.randomUniform([3, 16, 16, 2], 0, 1, 'float32', 2) as tf.Tensor4D;
      const ssim = tf.mean(ssimPerImage(a, b)).dataSync()[0];
      const mse = tf.mean(tf.squaredDifference(a, b)).dataSync()[0];
      expect(reconstructionLoss('ssim', a, b).dataSync()[0]).toBeCloseTo(1 - ssim, 5);
      expect(reconstructionLoss('l2+ssim', a, b, 0.25).dataSync()[0]).toBeCloseTo(0.75 * mse + 0.25 * (1 - ssim), 5);
      const g = tf.grad((x: tf.Tensor) => reconstructionLoss('ssim', x, b))(a);
      const v = g.dataSync();
      expect(v.every(Number.isFinite)).toBe(true);
      expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains a conv run on the graph step (said in its step event), the loss falls, it resumes, tensors stay flat', async () => {
    const ds = textures(48);
    const config = {
      kind: 'conv',
      inputShape: [16, 16, 1],
      hidden: [8, 16],
      latentDim: 16,
      loss: 'l2+ssim',
      ssimWeight: 0.8,
      batchSize: 16,
      epochs: 3,
      validationSplit: 0.25,
    } as const;
    const events: RunEvent[] = [];
    const before = tf.memory().numTensors;
    const runDir = tmpRunDir('ssim');
    const r = await trainRun({ config, dataset: ds, runDir, onEvent: (e) => events.push(e) });
    expect(r.status, r.message).toBe('completed');
    const step = events.find((e) => e.type === 'step') as Extract<RunEvent, { type: 'step' }>;
    expect(step.step).toBe('graph');
    expect(step.reason).toBeNull();
    expect(r.history.loss[2]).toBeLessThan(r.history.loss[0]);
    expect(tf.memory().numTensors).toBe(before);
    // resume for two more epochs from the checkpoint
    const more = await trainRun({ config: { ...config, epochs: 5 }, dataset: ds, runDir, resume: true });
    expect(more.status, more.message).toBe('completed');
    expect(more.history.loss).toHaveLength(5);
    expect(more.history.loss.slice(0, 3)).toEqual(r.history.loss);
    // a dense kind takes it too
    const dense = await trainRun({
      config: {
        kind: 'dense',
        inputShape: [16, 16, 1],
        hidden: [32],
        latentDim: 8,
        loss: 'ssim',
        batchSize: 16,
        epochs: 1,
        validationSplit: 0.25,
      },
      dataset: ds,
      runDir: tmpRunDir('ssim-dense'),
    });
    expect(dense.status, dense.message).toBe('completed');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a cluster job takes it', async () => {
    const ds = textures(40);
    const config = { kind: 'conv', inputShape: [16, 16, 1], hidden: [8], latentDim: 4, loss: 'ssim', batchSize: 8 };
    expect(validateConfig(config, { count: 40, shape: [16, 16, 1] }).ok).toBe(true);
    const out = tmpRunDir('job');
    const r = await exportJob({ config, dataset: ds, datasetSpec: null, datasetName: 'textures', name: 'conv', out });
    expect(r.job.config.loss).toBe('ssim');
  });
});
