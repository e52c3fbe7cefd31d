// @vitest-environment happy-dom
// The model store (stores/model.ts): a valid default config with its summary, presets, and field-level
// messages in plain words, including the checks against the chosen dataset.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { PRESETS, parseHidden, useModelStore } from '../../../../src-renderer/stores/model';
import { shapesHost as host } from '../shapes-host';

let pinia: ReturnType<typeof createPinia>;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '';
});
afterEach(() => vi.useRealTimers());

const CONV_PARAMS = 320 + 18_496 + 50_192 + 53_312 + 18_464 + 289;

describe('model store', () => {
  it('starts as a valid conv AE on built-in MNIST with its summary; presets replace the architecture', () => {
    host();
    const m = useModelStore();
    expect(m.valid).toBe(true);
    expect(m.summary?.totalParams).toBe(CONV_PARAMS);
    expect(m.runDataset).toEqual({ builtin: 'mnist', count: 6000 });
    m.applyPreset('dense');
    expect(m.presetLabel(PRESETS[0])).toBe('Dense 784 → 128 → 784 (classic)');
    expect(m.summary?.totalParams).toBe(201_616);
    expect(m.summary?.encoder.map((l) => l.outputShape)).toEqual([[28, 28, 1], [784], [128]]);
    m.applyPreset('inspection');
    expect(m.config).toMatchObject({
      kind: 'conv',
      latentDim: 64,
      hidden: [32, 64, 128],
      loss: 'mse',
      batchSize: 16,
    });
    m.applyPreset('denoising-conv');
    expect(m.config).toMatchObject({
      kind: 'conv',
      latentDim: 16,
      hidden: [32, 64],
      noise: { type: 'gaussian', level: 0.3 },
    });
    for (const p of PRESETS) {
      m.applyPreset(p.id);
      // the photo and inspection presets need sides divisible by 8 or 16, which MNIST's 28×28 are not
      if (p.id.startsWith('photos-') || p.id === 'inspection')
        expect(m.errors.dataset, p.id).toMatch(/must be divisible by (8|16); these images are 28×28/);
      else expect(m.errors, p.id).toEqual({});
    }
  });

  it('gives field-level messages in plain words, including the checks against the dataset', () => {
    host();
    const m = useModelStore();
    m.form.latentDim = 0;
    expect(m.errors.latentDim).toBe('must be at least 1');
    m.form.latentDim = 1.5;
    expect(m.errors.latentDim).toBe('must be a whole number');
    m.form.latentDim = 16;
    m.form.hiddenText = '32, x';
    expect(m.errors.hidden).toMatch(/whole numbers separated by commas/);
    m.form.hiddenText = '8, 8, 8, 8, 8, 8, 8';
    expect(m.errors.hidden).toMatch(/one filter count per stage, 1 to 6 stages/);
    expect(m.summary).toBeUndefined();
    m.form.hiddenText = '32, 64, 128';
    expect(m.errors.dataset).toBe(
      '3 conv stages halve the image 3 times, so height and width must be divisible by 8; these images are 28×28 — use at most 2 stages for these images, or resize them',
    );
    m.form.hiddenText = '32, 64';
    m.count = 1000;
    m.form.batchSize = 1000;
    expect(m.errors.batchSize).toBe('the batch (1000) is larger than the training data (900 images)');
    m.form.batchSize = 32;
    m.form.loss = 'bce';
    m.form.outputActivation = 'linear';
    expect(m.errors.outputActivation).toMatch(/binary cross-entropy needs a sigmoid output/);
    m.form.outputActivation = 'sigmoid';
    m.count = 50;
    expect(m.errors.count).toBe('must be at least 100');
    m.count = 20_000;
    expect(m.errors.count).toBe('this dataset has 10,000 images');
    m.count = 1000;
    m.setNoise({ type: 'masking' });
    m.form.noise.level = 1.5;
    expect(m.errors['noise.level']).toBe('a probability must be between 0 and 1');
    m.form.noise.level = 0.2;
    expect(m.valid).toBe(true);
    expect(parseHidden(' 256 ,128 ')).toEqual([256, 128]);
    // one example per field: the conv filters' message gives the same example as their hint, not a dense one
    m.form.kind = 'conv';
    m.form.hiddenText = '32, 64x';
    expect(m.errors.hidden).toBe('write whole numbers separated by commas, e.g. 32, 64, 128');
    m.form.kind = 'dense';
    expect(m.errors.hidden).toBe('write whole numbers separated by commas, e.g. 256, 128');
  });
});
