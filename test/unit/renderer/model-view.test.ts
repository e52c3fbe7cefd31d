// @vitest-environment happy-dom
// The Model view (form, inline validation, presets, network summary), the Noise view's debounced
// live preview, the Train view's launcher / run comparison, and the keyboard shortcuts — over the
// in-memory fake host at the transport boundary.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../src-renderer/api/client';
import { setApi } from '../../../src-renderer/api/instance';
import { PRESETS, parseHidden, useModelStore } from '../../../src-renderer/stores/model';
import { DEBOUNCE_MS, useNoiseStore } from '../../../src-renderer/stores/noise';
import { useRunsStore } from '../../../src-renderer/stores/runs';
import { useUiStore } from '../../../src-renderer/stores/ui';
import ModelView from '../../../src-renderer/views/ModelView.vue';
import NoiseView from '../../../src-renderer/views/NoiseView.vue';
import TrainView from '../../../src-renderer/views/TrainView.vue';
import App from '../../../src-renderer/App.vue';
import { FakeTransport, hostDecided, readyHost } from './fake-host';
import type { DatasetManifest, RunSummary } from '@contract';

const px = (v: number) => btoa(String.fromCharCode(...new Array<number>(784).fill(v)));
const shapes: DatasetManifest = {
  schemaVersion: 1,
  id: 'shapes-abc123',
  name: 'Shapes',
  source: { kind: 'builtin', builtin: 'shapes' },
  shape: [32, 30, 1],
  count: 900,
  labelNames: ['circle'],
  labelCounts: [900],
  createdAt: 1,
  options: { validationSplit: 0.2, seed: 7 },
};

function host(extra: ConstructorParameters<typeof FakeTransport>[0] = {}) {
  const t = new FakeTransport({
    'datasets:list': () => ({ ok: true, result: [shapes] }),
    'datasets:preview': () => ({ ok: true, result: { manifest: shapes, images: [], mean: px(0) } }),
    'runs:list': () => ({ ok: true, result: [] }),
    'runs:start': () => ({ ok: true, result: { runId: 'run-1' } }),
    'noise:preview': (p) => {
      const { count, noise } = p as { count: number; noise: { level: number } };
      return { ok: true, result: { shape: [28, 28, 1], clean: new Array(count).fill(px(10)), noisy: new Array(count).fill(px(Math.round(noise.level * 255))) } };
    },
    ...extra,
  });
  setApi(createClient(t));
  return t;
}

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
    expect(m.config).toMatchObject({ kind: 'conv', latentDim: 64, hidden: [32, 64, 128], loss: 'l2+ssim', ssimWeight: 0.5, batchSize: 16 });
    m.applyPreset('denoising-conv');
    expect(m.config).toMatchObject({ kind: 'conv', latentDim: 16, hidden: [32, 64], noise: { type: 'gaussian', level: 0.3 } });
    for (const p of PRESETS) {
      m.applyPreset(p.id);
      // the photo and inspection presets need sides divisible by 8 or 16, which MNIST's 28×28 are not
      if (p.id.startsWith('photos-') || p.id === 'inspection') expect(m.errors.dataset, p.id).toMatch(/must be divisible by (8|16); these images are 28×28/);
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
    expect(m.errors.dataset).toBe('3 conv stages halve the image 3 times, so height and width must be divisible by 8; these images are 28×28 — use at most 2 stages for these images, or resize them');
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

describe('Model view', () => {
  it('shows messages in place, the summary, presets, a stored dataset, and trains the config', async () => {
    const t = host();
    const w = mount(ModelView, { global: { plugins: [pinia] } });
    await flushPromises();
    expect(w.find('[data-testid="model-params"]').text()).toBe(CONV_PARAMS.toLocaleString('en-US'));
    expect(w.find('[data-testid="model-summary"]').text()).toMatch(/enc_conv1.*Conv2D.*14 × 14 × 32/s);
    // the same run as a file for `ae-studio train --config`: exactly what Train would start
    const file = JSON.parse(w.find('[data-testid="run-config-json"] pre').text()) as { config: Record<string, unknown>; dataset: unknown };
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
    expect(w.find('[data-testid="error-latentDim"]').text()).toMatch(/the code \(800\) must be smaller than the image \(784 values\)/);
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
    const sent = t.calls.find((c) => c.name === 'runs:start')?.payload as { config: Record<string, unknown>; dataset: unknown };
    expect(sent.config).toMatchObject({ kind: 'vae', hidden: [512], optimizer: 'sgd', epochs: 2, inputShape: [28, 28, 1], noise: { type: 'gaussian', level: 0.4 } });
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
          : { ok: true, result: { rates: [16, 32, 64, 128, 256].map((b) => ({ batchSize: b, samplesPerSec: b * 100 })), advice: 'Batch 32 on this model is dispatch-bound: ~3,200 samples/s' } },
    });
    const w = mount(ModelView, { global: { plugins: [pinia] } });
    await flushPromises();
    await w.find('[data-testid="measure-speed"]').trigger('click');
    await flushPromises();
    const sent = t.calls.find((c) => c.name === 'models:speed')?.payload as { config: Record<string, unknown> };
    expect(sent.config).toMatchObject({ kind: 'conv', batchSize: 32, inputShape: [28, 28, 1] });
    expect(w.find('[data-testid="speed-table"]').text()).toMatch(/3,200/);
    expect(w.find('[data-testid="speed-table"] td.chosen').text()).toBe('32');
    expect(w.find('[data-testid="speed-advice"]').text()).toMatch(/dispatch-bound/);
    refuse = true;
    await w.find('[data-testid="measure-speed"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-testid="speed-error"]').text()).toMatch(/no run is training/);
    // an invalid form cannot be measured
    await w.find('[data-testid="field-latentDim"]').setValue('0');
    expect(w.find('[data-testid="measure-speed"]').attributes('disabled')).toBeDefined();
  });
});

describe('Noise view', () => {
  it('previews the chosen noise, debounces changes, keeps only the newest answer, and shows errors in place', async () => {
    const t = host();
    useModelStore().setNoise({ type: 'gaussian', level: 0.3 });
    const w = mount(NoiseView, { global: { plugins: [pinia] } });
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'noise:preview')).toHaveLength(1);
    expect(t.calls.find((c) => c.name === 'noise:preview')?.payload).toMatchObject({ dataset: { builtin: 'mnist' }, noise: { type: 'gaussian', level: 0.3 }, count: 12, seed: 1 });
    expect(w.findAll('[data-row="clean"] canvas')).toHaveLength(12);
    expect(w.findAll('[data-row="noisy"] canvas')).toHaveLength(12);

    vi.useFakeTimers();
    for (const v of ['0.4', '0.5', '0.6']) await w.find('[data-testid="noise-level"]').setValue(v);
    expect(t.calls.filter((c) => c.name === 'noise:preview')).toHaveLength(1); // not yet: debounced
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS + 10);
    vi.useRealTimers();
    await flushPromises();
    const previews = t.calls.filter((c) => c.name === 'noise:preview');
    expect(previews).toHaveLength(2);
    expect(previews[1].payload).toMatchObject({ noise: { level: 0.6 } });
    expect(useNoiseStore().preview?.noisy[0]).toBe(px(153));

    await w.find('[data-testid="noise-type-masking"]').setValue(true);
    expect(useModelStore().form.noise.type).toBe('masking');
    await new Promise((r) => setTimeout(r, DEBOUNCE_MS + 30));
    expect(t.calls.filter((c) => c.name === 'noise:preview')).toHaveLength(3);
    await w.find('[data-testid="noise-level"]').setValue('1.5');
    expect(w.find('[data-testid="error-noise.level"]').text()).toMatch(/probability must be between 0 and 1/);
    await new Promise((r) => setTimeout(r, DEBOUNCE_MS + 30));
    expect(t.calls.filter((c) => c.name === 'noise:preview')).toHaveLength(3); // nothing is asked for a bad level

    // an older answer that arrives late is dropped
    let release!: () => void;
    const n = useNoiseStore();
    useModelStore().form.noise.level = 0.3;
    t.handlers['noise:preview'] = () => new Promise((resolve) => (release = () => resolve({ ok: true, result: { shape: [28, 28, 1], clean: [px(1)], noisy: [px(1)] } })));
    const slow = n.refresh();
    t.handlers['noise:preview'] = () => ({ ok: true, result: { shape: [28, 28, 1], clean: [px(2)], noisy: [px(2)] } });
    await n.refresh();
    release();
    await slow;
    expect(n.preview?.clean).toEqual([px(2)]);

    t.handlers['noise:preview'] = () => ({ ok: false, error: { code: 'invalid_payload', message: "There is no dataset 'gone' in this workspace (deleted?)." } });
    await w.find('[data-testid="noise-reroll"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-testid="noise-error"]').text()).toMatch(/The preview could not be made: .*no dataset 'gone'/);
    w.unmount();
  });
});

const summary = (runId: string, status: RunSummary['status'], loss: number[]): RunSummary =>
  hostDecided({
    runId,
    status,
    config: { kind: 'conv', epochs: 3 },
    dataset: { builtin: 'mnist', count: 1000 },
    epochsDone: loss.length,
    history: { loss, valLoss: loss.map((l) => l * 1.1) },
    startedAt: 1,
  });
const stubs = { LossChart: { template: '<div data-testid="loss-chart" />' }, CompareChart: { props: ['runs'], template: '<div data-testid="compare-chart" :data-runs="runs.length" />' } };

describe('Train view', () => {
  it('starts the Model view config, shows a refused start in place, compares runs and stops / resumes per row', async () => {
    const t = host({
      'runs:list': () => ({ ok: true, result: [summary('run-b', 'running', [0.05]), summary('run-a', 'stopped', [0.06, 0.04])] }),
      'runs:start': () => ({ ok: false, error: { code: 'trainer_unavailable', message: 'The trainer process is not running.' } }),
      'runs:stop': () => ({ ok: true, result: { stopping: true } }),
      'runs:resume': () => ({ ok: true, result: { runId: 'run-a' } }),
    });
    const w = mount(TrainView, { global: { plugins: [pinia], stubs } });
    await flushPromises();
    expect(w.find('[data-testid="run-describe"]').text()).toBe('conv · 16-d code · 5 epochs');
    await w.find('[data-testid="run-epochs"]').setValue('0');
    expect(w.find('[data-testid="run-form-errors"]').text()).toBe('Epochs: must be at least 1');
    expect(w.find('[data-testid="train-start"]').attributes('disabled')).toBeDefined();
    await w.find('[data-testid="run-epochs"]').setValue('2');
    await w.find('[data-testid="quick-run"]').trigger('submit');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({ config: { kind: 'conv', epochs: 2 }, dataset: { builtin: 'mnist', count: 6000 } });
    expect(w.find('[data-testid="train-error"]').text()).toMatch(/The run could not start: .*trainer process is not running/);

    expect(w.find('[data-testid="compare-chart"]').exists()).toBe(false);
    const boxes = w.findAll('[data-testid="run-compare"]');
    expect(boxes).toHaveLength(2);
    await boxes[0].setValue(true);
    await boxes[1].setValue(true);
    expect([...useRunsStore().compareIds].sort()).toEqual(['run-a', 'run-b']);
    expect(w.find('[data-testid="compare-chart"]').attributes('data-runs')).toBe('2');

    await w.find('[data-run="run-b"] [data-testid="run-row-stop"]').trigger('click');
    await w.find('[data-run="run-a"] [data-testid="run-row-resume"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'runs:stop')?.payload).toEqual({ runId: 'run-b' });
    expect(t.calls.find((c) => c.name === 'runs:resume')?.payload).toEqual({ runId: 'run-a' });
  });

  it('first run: one click trains a small conv AE on built-in MNIST', async () => {
    const t = host();
    useModelStore().applyPreset('vae');
    const w = mount(TrainView, { global: { plugins: [pinia], stubs } });
    await flushPromises();
    await w.find('[data-testid="train-first-run"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({ config: { kind: 'conv', latentDim: 16, inputShape: [28, 28, 1] }, dataset: { builtin: 'mnist', count: 6000 } });
  });
});

describe('keyboard shortcuts', () => {
  it('Alt+number switches to the Noise view, ? lists the shortcuts, Alt+Enter trains, Alt+S stops', async () => {
    const t = readyHost();
    t.handlers['runs:start'] = () => ({ ok: true, result: { runId: 'run-k' } });
    t.handlers['runs:stop'] = () => ({ ok: true, result: { stopping: true } });
    t.handlers['noise:preview'] = () => ({ ok: true, result: { shape: [28, 28, 1], clean: [], noisy: [] } });
    setApi(createClient(t));
    const w = mount(App, { global: { plugins: [pinia], stubs }, attachTo: document.body });
    await flushPromises();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '3', altKey: true }));
    await flushPromises();
    expect(w.find('[data-testid="view-noise"]').exists()).toBe(true);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '?' }));
    await flushPromises();
    expect(w.find('[data-testid="shortcuts-help"]').text()).toMatch(/Alt\s*\+\s*Enter.*Train the Model view's configuration/s);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await flushPromises();
    expect(w.find('[data-testid="shortcuts-help"]').exists()).toBe(false);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', altKey: true }));
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({ config: { kind: 'conv' } });
    expect(useUiStore().view).toBe('train');
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 's', code: 'KeyS', altKey: true }));
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'runs:stop')?.payload).toEqual({ runId: 'run-k' });
    w.unmount();
  });

  it('Alt+R resumes the selected run only where the host says it continues from a checkpoint', async () => {
    const t = readyHost();
    const stopped: RunSummary = {
      runId: 'run-r',
      status: 'stopped',
      config: { kind: 'conv', epochs: 5 },
      dataset: { builtin: 'mnist', count: 600 },
      epochsDone: 2,
      history: { loss: [0.2, 0.1], valLoss: [null, null] },
      startedAt: 1,
    };
    // the checkpoint folder is gone: the host offers no resume from it, whatever epochsDone says
    let listed: RunSummary = { ...stopped, hasModel: false, resume: 'start' };
    t.handlers['runs:list'] = () => ({ ok: true, result: [listed] });
    t.handlers['runs:resume'] = ({ runId }) => ({ ok: true, result: { runId } });
    t.handlers['noise:preview'] = () => ({ ok: true, result: { shape: [28, 28, 1], clean: [], noisy: [] } });
    setApi(createClient(t));
    const w = mount(App, { global: { plugins: [pinia], stubs }, attachTo: document.body });
    await useRunsStore().refresh();
    useRunsStore().select('run-r');
    expect(useRunsStore().selected?.summary).toMatchObject({ status: 'stopped', epochsDone: 2 });
    const altR = async () => {
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'r', code: 'KeyR', altKey: true }));
      await flushPromises();
    };
    await altR();
    expect(t.calls.filter((c) => c.name === 'runs:resume')).toEqual([]);
    listed = { ...stopped, hasModel: false, resume: 'checkpoint' };
    await useRunsStore().refresh();
    await altR();
    expect(t.calls.filter((c) => c.name === 'runs:resume').map((c) => c.payload)).toEqual([{ runId: 'run-r' }]);
    w.unmount();
  });
});
