// The SSIM objectives ('ssim', 'l2+ssim') on the fast step (src-main/engine/fast/ssim.ts in
// step.ts) and the graph step: on fixed weights and a fixed batch (clean and noisy input), their
// loss and gradients equal tfjs's autodiff of objective.ts's objective (reconstructionLoss) for
// every model kind, a batch split unevenly into parts gives the whole batch's, the graph step's
// update is the tfjs gradient's, real runs follow the tfjs step's loss trajectory (noise,
// augmentation, resume), and no tensor is left behind.
import { afterEach, describe, expect, it } from 'vitest';
import { buildAutoencoder, trainRun, type ModelConfigInput } from '../../../../../src-main/engine';
import { tf } from '../../../../../src-main/engine/tf';
import { trainableVariables } from '../../../../../src-main/engine/models';
import { objective } from '../../../../../src-main/engine/train';
import { FastStep } from '../../../../../src-main/engine/fast/step';
import { gaussian1d, ssimWindow } from '../../../../../src-main/engine/fast/ssim';
import { gaussianWindow } from '../../../../../src-main/engine/metrics';
import { mulberry32 } from '../../../../../src-main/engine/rng';
import { tmpRunDir } from '../helpers';
import { onCleanAndNoisy, resolveConfig, type FastStepCtx } from '../fast-helpers';

afterEach(() => {
  delete process.env.AE_FAST_STEP;
  delete process.env.AE_GRAPH_STEP;
});

const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
/** Largest difference relative to the reference's largest value (gradients of SSIM vary a lot in size between layers). */
const relDiff = (ref: tf.Tensor, got: tf.Tensor) => maxAbsDiff(ref, got) / Math.max(maxAbs(ref), 1e-12);

/** Every kind the SSIM objectives train (all of them), both objectives, the output activations, picture shapes and both column passes (ssim.ts). */
const KINDS: Array<[string, ModelConfigInput]> = [
  ['dense, ssim', { kind: 'dense', inputShape: [16, 16, 1], latentDim: 16, hidden: [32], loss: 'ssim' }],
  ['deep-dense, l2+ssim', { kind: 'deep-dense', inputShape: [16, 16, 1], latentDim: 8, loss: 'l2+ssim' }],
  [
    'conv, l2+ssim 0.8, rgb',
    { kind: 'conv', inputShape: [16, 16, 3], latentDim: 8, hidden: [4, 8], loss: 'l2+ssim', ssimWeight: 0.8 },
  ],
  ['conv, ssim, 28×28', { kind: 'conv', inputShape: [28, 28, 1], latentDim: 16, hidden: [8, 16], loss: 'ssim' }],
  [
    'conv, ssim, linear output, not square',
    { kind: 'conv', inputShape: [24, 16, 2], latentDim: 8, hidden: [4, 8], loss: 'ssim', outputActivation: 'linear' },
  ],
  [
    'conv, l2+ssim, 3 stages, 5×5, 32×32 rgb',
    { kind: 'conv', inputShape: [32, 32, 3], latentDim: 8, hidden: [4, 6, 8], kernelSize: 5, loss: 'l2+ssim' },
  ],
  ['vae, ssim', { kind: 'vae', inputShape: [16, 16, 1], latentDim: 4, hidden: [32], loss: 'ssim', beta: 2 }],
  [
    'conv-vae, l2+ssim 0.3',
    { kind: 'conv-vae', inputShape: [16, 16, 1], latentDim: 4, hidden: [4, 8], loss: 'l2+ssim', ssimWeight: 0.3 },
  ],
  ['sparse, ssim', { kind: 'sparse', inputShape: [16, 16, 1], latentDim: 16, hidden: [32], loss: 'ssim', l1: 0.1 }],
  [
    'dense, l2+ssim, pictures smaller than the window (7×9: a 7×7 window)',
    { kind: 'dense', inputShape: [7, 9, 1], latentDim: 4, hidden: [16], loss: 'l2+ssim', outputActivation: 'linear' },
  ],
  [
    'conv, ssim, rows wider than 256 values (12×96×3: the column pass as a batch of products)',
    { kind: 'conv', inputShape: [12, 96, 3], latentDim: 8, hidden: [4], loss: 'ssim' },
  ],
];

/** Smooth, textured pictures in [0, 1] (random noise has almost no structure for SSIM to see). */
function pictures(count: number, [h, w, c]: readonly number[], seed: number): tf.Tensor4D {
  const rand = mulberry32(seed);
  const v = new Float32Array(count * h * w * c);
  for (let i = 0; i < count; i++) {
    const [f, g, ph] = [0.3 + rand(), 0.2 + rand(), 6 * rand()];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++)
          v[((i * h + y) * w + x) * c + ch] = Math.min(
            1,
            Math.max(0, 0.5 + 0.35 * Math.sin(f * x + g * y + ph + ch) + 0.15 * (rand() - 0.5)),
          );
  }
  return tf.tensor4d(v, [count, h, w, c]);
}

/** The model and its fast step on smooth pictures and a noisy copy of them (fast-helpers.ts). */
const onEachInput = (config: ModelConfigInput, count: number, check: (ctx: FastStepCtx) => void) =>
  onCleanAndNoisy(config, count, (k, shape) => pictures(k, shape, 7), 0.2, check);

describe('the SSIM window as two banded passes', () => {
  it("is metrics.ts's 11×11 window (outer product of the 1-D Gaussian), smaller for small pictures", () => {
    expect(ssimWindow([28, 28, 1])).toBe(11);
    expect(ssimWindow([7, 9, 1])).toBe(7);
    expect(ssimWindow([10, 12, 1])).toBe(9);
    for (const k of [11, 7]) {
      const g = gaussian1d(k);
      const w = gaussianWindow(k, 1.5, 1);
      const v = w.dataSync();
      w.dispose();
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++) expect(Math.abs(v[i * k + j] - g[i] * g[j])).toBeLessThan(1e-8);
    }
  });
});

describe('the hand-written SSIM gradient equals tfjs autodiff of the objective', () => {
  for (const [name, config] of KINDS) {
    it(name, () =>
      onEachInput(config, 12, ({ c, ae, vars, fast, input, x }) => {
        const ref = tf.variableGrads(() => objective(ae, c, input, x, 11), vars);
        const got = fast.lossAndGrads(input, x, 11);
        const [r, g] = [ref.value.dataSync()[0], got.loss.dataSync()[0]];
        expect(Math.abs(r - g) / r).toBeLessThan(1e-5);
        // Float32 rounding differs (tfjs's 11×11 depthwise convolutions vs two banded matrix products):
        // every gradient agrees to 1e-4 of the model's largest gradient value, and each tensor to 2e-3
        // of its own largest (the last layer's bias, a sum of ~10⁴ values that mostly cancel, is the
        // worst: ~1e-3; every kernel agrees to ~1e-6).
        const scale = Math.max(...vars.map((v) => maxAbs(ref.grads[v.name])));
        vars.forEach((v, i) => {
          expect(got.grads[i].shape).toEqual(v.shape);
          expect(maxAbsDiff(ref.grads[v.name], got.grads[i]) / scale, v.name).toBeLessThan(1e-4);
          expect(relDiff(ref.grads[v.name], got.grads[i]), v.name).toBeLessThan(2e-3);
        });
        tf.dispose([ref.value, ...Object.values(ref.grads), got.loss, ...got.grads]);
      }),
    );
  }
});

describe("a batch split unevenly into parts gives the whole batch's SSIM loss and gradients", () => {
  for (const [name, config] of KINDS.filter((_, i) => [0, 2, 6, 7, 8, 10].includes(i))) {
    it(name, () =>
      onEachInput(config, 25, ({ vars, fast, input, x }) => {
        const values = fast.stepValues(25, 11);
        const whole = fast.lossAndGrads(input, x, 11, values);
        const split = fast.splitLossAndGrads(input, x, values, 3); // 9 + 8 + 8 images
        expect(Math.abs(whole.loss.dataSync()[0] - split.loss.dataSync()[0])).toBeLessThan(1e-6);
        const scale = Math.max(...whole.grads.map(maxAbs));
        vars.forEach((v, i) => expect(maxAbsDiff(whole.grads[i], split.grads[i]) / scale, v.name).toBeLessThan(1e-5));
        tf.dispose([whole.loss, ...whole.grads, split.loss, ...split.grads, ...values]);
      }),
    );
  }
});

describe("the graph step's update is tfjs's gradient of the SSIM objective", () => {
  // Plain SGD with a large rate: the parameters move by exactly −lr·gradient, so the graph's gradient reads back to ~1e-9.
  for (const [name, config] of KINDS.filter((_, i) => [1, 2, 7, 9, 10].includes(i))) {
    it(`${name}: in 3 uneven parts (9 + 8 + 8), then a smaller last batch`, () => {
      const lr = 100;
      const c = resolveConfig({ ...config, optimizer: 'sgd', momentum: 0, learningRate: lr });
      const before = tf.memory().numTensors;
      const ae = buildAutoencoder(c);
      const vars = trainableVariables(ae);
      const fast = FastStep.compile(ae, c, vars)!;
      fast.parts = 3;
      fast.expectBatchSizes([25, 12]);
      for (const [step, count] of [25, 12].entries()) {
        const seed = 40 + step;
        const x = pictures(count, c.inputShape, 100 + step);
        const input = tf.tidy(() => tf.clipByValue(tf.add(x, tf.randomNormal(x.shape, 0, 0.2, 'float32', 9)), 0, 1));
        const ref = tf.variableGrads(() => objective(ae, c, input, x, seed), vars);
        const params = vars.map((v) => v.clone());
        const loss = fast.step(input, x, seed);
        expect(fast.form, fast.graphRefusal).toBe('graph');
        expect(Math.abs(loss.dataSync()[0] - ref.value.dataSync()[0]) / ref.value.dataSync()[0]).toBeLessThan(1e-5);
        fast.optimizer.sync();
        const scale = Math.max(...vars.map((v) => maxAbs(ref.grads[v.name])));
        vars.forEach((v, i) => {
          const g = tf.tidy(() => tf.div(tf.sub(params[i], v), lr));
          // the graph's fused kernels round differently again: 5e-4 of the largest gradient (the last bias ~3e-4)
          expect(maxAbsDiff(ref.grads[v.name], g) / scale, v.name).toBeLessThan(5e-4);
          expect(relDiff(ref.grads[v.name], g), v.name).toBeLessThan(2e-3);
          g.dispose();
        });
        tf.dispose([x, input, loss, ref.value, ...Object.values(ref.grads), ...params]);
      }
      fast.dispose();
      ae.encoder.dispose();
      ae.decoder.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

/** n textured grey pictures of 16×16 with labels 0..3 (uint8, as a stored dataset). */
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
  return {
    images,
    labels: Int32Array.from({ length: n }, (_, i) => i % 4),
    count: n,
    shape: [16, 16, 1] as [number, number, number],
  };
}

describe('real runs with the SSIM objectives: the graph step follows the tfjs step', () => {
  const data = textures(240);
  const RUNS: Array<[string, ModelConfigInput]> = [
    [
      'conv, l2+ssim, Gaussian noise',
      {
        kind: 'conv',
        inputShape: [16, 16, 1],
        latentDim: 16,
        hidden: [8, 16],
        loss: 'l2+ssim',
        ssimWeight: 0.8,
        noise: { type: 'gaussian', level: 0.2 },
      },
    ],
    [
      'dense, ssim, augmentation',
      {
        kind: 'dense',
        inputShape: [16, 16, 1],
        latentDim: 16,
        hidden: [64],
        loss: 'ssim',
        augment: { flip: true, shift: 0.1, rotate: 10, brightness: 0.2 },
      },
    ],
    ['conv-vae, ssim', { kind: 'conv-vae', inputShape: [16, 16, 1], latentDim: 4, hidden: [8, 16], loss: 'ssim' }],
  ];
  for (const [name, config] of RUNS) {
    it(`${name}: the same loss trajectory, on the graph step, tensors flat`, async () => {
      const run = async (fast: boolean) => {
        process.env.AE_FAST_STEP = fast ? '1' : '0';
        const counts: number[] = [];
        const before = tf.memory().numTensors;
        const r = await trainRun({
          config: { ...config, epochs: 3, batchSize: 40, seed: 5, validationSplit: 0.2 },
          dataset: data,
          runDir: tmpRunDir('ssim-run'),
          onEvent: (e) => e.type === 'epoch' && counts.push(tf.memory().numTensors),
        });
        expect(r.status, r.message).toBe('completed');
        expect(new Set(counts).size).toBe(1);
        expect(tf.memory().numTensors).toBe(before);
        return r;
      };
      const plain = await run(false);
      const fast = await run(true);
      expect(plain.step?.step).toBe('tfjs');
      expect(fast.step).toEqual({ step: 'graph', reason: null, fallback: false });
      console.log(
        `${name}: loss tfjs ${plain.history.loss.map((v) => v.toFixed(5)).join(', ')} | graph ${fast.history.loss.map((v) => v.toFixed(5)).join(', ')}`,
      );
      fast.history.loss.forEach((v, i) =>
        expect(Math.abs(v - plain.history.loss[i]) / plain.history.loss[i]).toBeLessThan(2e-3),
      );
      fast.history.valLoss.forEach((v, i) =>
        expect(Math.abs(v! - plain.history.valLoss[i]!) / plain.history.valLoss[i]!).toBeLessThan(2e-3),
      );
      expect(fast.history.loss[2]).toBeLessThan(fast.history.loss[0]);
    });
  }

  it('a run stopped after its first epoch resumes on the graph step and continues the same trajectory', async () => {
    const config = { ...RUNS[0][1], epochs: 3, batchSize: 40, seed: 9 };
    const whole = (await trainRun({ config, dataset: data, runDir: tmpRunDir('ssim-whole') })).history.loss;
    const dir = tmpRunDir('ssim-resume');
    const ctrl = new AbortController();
    const a = await trainRun({
      config,
      dataset: data,
      runDir: dir,
      signal: ctrl.signal,
      onEvent: (e) => e.type === 'checkpoint' && e.epoch === 1 && ctrl.abort(),
    });
    expect(a.status).toBe('stopped');
    const b = await trainRun({ config, dataset: data, runDir: dir, resume: true });
    expect(b.status, b.message).toBe('completed');
    expect(b.step?.step).toBe('graph');
    b.history.loss.forEach((v, i) => expect(Math.abs(v - whole[i]) / whole[i]).toBeLessThan(1e-5));
  });
});
