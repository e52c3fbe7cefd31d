import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../src-main/engine';

const base = { kind: 'dense', inputShape: [28, 28, 1] } as const;
const ds = { count: 1000, shape: [28, 28, 1] as [number, number, number] };
const fields = (r: ReturnType<typeof validateConfig>) => (r.ok ? [] : r.errors.map((e) => e.field));

describe('model config', () => {
  it('fills defaults: the classic dense 784 → 128 → 784 with sigmoid output', () => {
    const r = validateConfig(base, ds);
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(r.config).toMatchObject({
        latentDim: 128,
        hidden: [],
        outputActivation: 'sigmoid',
        loss: 'mse',
        optimizer: 'adam',
        batchSize: 128,
      });
  });

  it('refuses bad configs, naming the field', () => {
    expect(fields(validateConfig({ ...base, latentDim: 0 }, ds))).toEqual(['latentDim']);
    expect(fields(validateConfig({ ...base, batchSize: 5000 }, ds))).toEqual(['batchSize']);
    expect(fields(validateConfig({ ...base, inputShape: [32, 32, 3] }, ds))).toEqual(['inputShape']);
    expect(
      fields(validateConfig({ ...base, kind: 'conv', inputShape: [30, 30, 1] }, { count: 1000, shape: [30, 30, 1] })),
    ).toEqual(['inputShape']);
    expect(fields(validateConfig({ ...base, kind: 'conv', hidden: [8, 8, 8, 8, 8, 8, 8] }, ds))).toEqual(['hidden']); // 1–6 stages
    expect(fields(validateConfig({ ...base, kind: 'conv', hidden: [8, 16, 32] }, ds))).toEqual(['inputShape']); // 28 is not divisible by 2³
    expect(fields(validateConfig({ ...base, testSplit: 0.5, validationSplit: 0.5 }, ds))).toEqual([
      'testSplit',
      'batchSize',
    ]);
    expect(fields(validateConfig({ ...base, klWarmupEpochs: 3 }, ds))).toEqual(['klWarmupEpochs']);
    expect(fields(validateConfig({ ...base, loss: 'bce', outputActivation: 'linear' }, ds))).toEqual([
      'outputActivation',
    ]);
    expect(fields(validateConfig({ ...base, learningRate: -1 }, ds))).toEqual(['learningRate']);
    expect(fields(validateConfig({ ...base, optimizer: 'lbfgs' }, ds))).toEqual(['optimizer']);
    expect(fields(validateConfig({ ...base, noise: { type: 'masking', level: 1.5 } }, ds))).toEqual(['noise.level']);
    expect(fields(validateConfig({ ...base, validationSplit: 0.9 }, ds))).toEqual(['validationSplit']);
    expect(fields(validateConfig({ ...base, unknownKnob: 1 }, ds))).toEqual(['config']);
    expect(fields(validateConfig({ ...base, latentDim: 900 }, ds))).toEqual(['latentDim']);
    const r = validateConfig({ ...base, batchSize: 5000 }, ds);
    expect(r.ok ? '' : r.errors[0].message).toMatch(/larger than the training data \(900 images\)/);
  });
});

describe('built-in MNIST', () => {
  it('loads real digits as uint8 or float, in a seeded order', async () => {
    const { loadMnist } = await import('../../../../src-main/engine');
    const u = loadMnist(100, { seed: 3 });
    const f = loadMnist(100, { seed: 3, format: 'float' });
    expect(u.images).toBeInstanceOf(Uint8Array);
    expect(f.images).toBeInstanceOf(Float32Array);
    expect(u).toMatchObject({ count: 100, shape: [28, 28, 1] });
    expect(u.images.length).toBe(100 * 784);
    expect(Array.from(u.labels ?? [])).toEqual(Array.from(f.labels ?? []));
    for (let j = 0; j < 784 * 100; j += 37)
      expect(Math.abs(u.images[j] / 255 - f.images[j])).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    expect(new Set(u.labels).size).toBe(10);
    expect(loadMnist(10_000).count).toBe(10_000);
  });
});
