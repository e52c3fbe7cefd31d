// @vitest-environment happy-dom
// The Model view (views/ModelView.vue): the form with messages in place, the network summary, presets,
// a stored dataset, training the config, and the training-speed table — over the in-memory fake host.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { useModelStore } from '../../../../src-renderer/stores/model';
import { useUiStore } from '../../../../src-renderer/stores/ui';
import ModelView from '../../../../src-renderer/views/ModelView.vue';
import { shapesHost as host } from '../shapes-host';

let pinia: ReturnType<typeof createPinia>;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '';
});
afterEach(() => vi.useRealTimers());

const CONV_PARAMS = 320 + 18_496 + 50_192 + 53_312 + 18_464 + 289;

describe('Model view', () => {
  it('shows messages in place, the summary, presets, a stored dataset, and trains the config', async () => {
    const t = host();
    const w = mount(ModelView, { global: { plugins: [pinia] } });
    await flushPromises();
    expect(w.find('[data-testid="model-params"]').text()).toBe(CONV_PARAMS.toLocaleString('en-US'));
    expect(w.find('[data-testid="model-summary"]').text()).toMatch(/enc_conv1.*Conv2D.*14 × 14 × 32/s);
    // the same run as a file for `ae-studio train --config`: exactly what Train would start
    const file = JSON.parse(w.find('[data-testid="run-config-json"] pre').text()) as {
      config: Record<string, unknown>;
      dataset: unknown;
    };
    const store = useModelStore();
    expect(file).toEqual(JSON.parse(JSON.stringify({ config: store.config, dataset: store.runDataset })));
    expect(file.config).toMatchObject({ kind: 'conv', inputShape: [28, 28, 1] });
    // a conv model's kernel size sits with its architecture, and changes the network's summary
    const architecture = w.find('[data-testid="field-hidden"]').element.closest('.grid')!;
    expect(architecture.querySelector('[data-testid="field-kernelSize"]')).not.toBeNull();
    await w.find('[data-testid="field-kernelSize"]').setValue('5');
    await flushPromises();
    expect(useModelStore().config.kernelSize).toBe(5);
    expect(w.find('[data-testid="model-params"]').text()).not.toBe(CONV_PARAMS.toLocaleString('en-US'));
    await w.find('[data-testid="field-kernelSize"]').setValue('3');
    await flushPromises();
    expect(w.find('[data-testid="model-params"]').text()).toBe(CONV_PARAMS.toLocaleString('en-US'));

    await w.find('[data-testid="field-latentDim"]').setValue('0');
    expect(w.find('[data-testid="error-latentDim"]').text()).toBe('must be at least 1');
    expect(w.find('[data-testid="model-train"]').attributes('disabled')).toBeDefined();
    expect(w.find('[data-testid="model-invalid"]').text()).toMatch(/Fix the field marked in red/);
    await w.find('[data-testid="field-latentDim"]').setValue('');
    expect(w.find('[data-testid="error-latentDim"]').text()).toBe('must be a number');
    await w.find('[data-testid="field-latentDim"]').setValue('16');
    expect(w.find('[data-testid="error-latentDim"]').exists()).toBe(false);

    // a dense model's code must be smaller than the image
    await w.find('[data-testid="preset-dense"]').trigger('click');
    expect(w.find('[data-testid="preset-dense"]').attributes('aria-pressed')).toBe('true');
    expect(w.find('[data-testid="field-kernelSize"]').exists()).toBe(false);
    expect(w.find('[data-testid="model-params"]').text()).toBe('201,616');
    await w.find('[data-testid="field-latentDim"]').setValue('800');
    expect(w.find('[data-testid="error-latentDim"]').text()).toMatch(
      /the code \(800\) must be smaller than the image \(784 values\)/,
    );
    await w.find('[data-testid="field-latentDim"]').setValue('128');

    // a stored 32×30 dataset: its split comes along, and the conv model says why it cannot take it
    await w.find('[data-testid="run-dataset"]').setValue('shapes-abc123');
    const m = useModelStore();
    expect(m.form.validationSplit).toBe(0.2);
    expect(m.count).toBe(900);
    await w.find('[data-testid="preset-conv"]').trigger('click');
    expect(w.find('[data-testid="error-dataset"]').text()).toMatch(/divisible by 4.*32×30/);
    await w.find('[data-testid="run-dataset"]').setValue('builtin:mnist');
    m.count = 3000;
    await flushPromises();

    await w.find('[data-testid="field-kind"]').setValue('vae');
    expect(w.find('[data-testid="field-hidden"]').element).toHaveProperty('value', '512');
    expect(w.find('[data-testid="field-beta"]').exists()).toBe(true);
    await w.find('[data-testid="field-optimizer"]').setValue('sgd');
    expect(w.find('[data-testid="field-momentum"]').exists()).toBe(true);
    await w.find('[data-testid="field-epochs"]').setValue('2');
    await w.find('[data-testid="field-noise"]').setValue('gaussian');
    await w.find('[data-testid="field-noise-level"]').setValue('0.4');
    await w.find('[data-testid="model-form"]').trigger('submit');
    await flushPromises();
    const sent = t.calls.find((c) => c.name === 'runs:start')?.payload as {
      config: Record<string, unknown>;
      dataset: unknown;
    };
    expect(sent.config).toMatchObject({
      kind: 'vae',
      hidden: [512],
      optimizer: 'sgd',
      epochs: 2,
      inputShape: [28, 28, 1],
      noise: { type: 'gaussian', level: 0.4 },
    });
    expect(sent.dataset).toEqual({ builtin: 'mnist', count: 3000 });
    expect(useUiStore().view).toBe('train');
  });
});

describe('training speed in the Model view', () => {
  it("measures the current architecture, marks the chosen batch and shows the hint or the host's refusal in place", async () => {
    let refuse = false;
    const t = host({
      'models:speed': () =>
        refuse
          ? { ok: false, error: { code: 'invalid_payload', message: 'Measure the speed when no run is training.' } }
          : {
              ok: true,
              result: {
                rates: [16, 32, 64, 128, 256].map((b) => ({ batchSize: b, samplesPerSec: b * 100 })),
                advice: 'Batch 32 trains this model slowly: each step has a fixed cost (~3,200 images/s)',
              },
            },
    });
    const w = mount(ModelView, { global: { plugins: [pinia] } });
    await flushPromises();
    await w.find('[data-testid="measure-speed"]').trigger('click');
    await flushPromises();
    const sent = t.calls.find((c) => c.name === 'models:speed')?.payload as { config: Record<string, unknown> };
    expect(sent.config).toMatchObject({ kind: 'conv', batchSize: 32, inputShape: [28, 28, 1] });
    expect(w.find('[data-testid="speed-table"]').text()).toMatch(/3,200/);
    expect(w.find('[data-testid="speed-table"] td.chosen').text()).toBe('32');
    expect(w.find('[data-testid="speed-advice"]').text()).toMatch(/trains this model slowly/);
    refuse = true;
    await w.find('[data-testid="measure-speed"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-testid="speed-error"]').text()).toMatch(/no run is training/);
    // an invalid form cannot be measured
    await w.find('[data-testid="field-latentDim"]').setValue('0');
    expect(w.find('[data-testid="measure-speed"]').attributes('disabled')).toBeDefined();
  });
});
