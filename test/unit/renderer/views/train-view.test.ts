// @vitest-environment happy-dom
// The Train view (views/TrainView.vue): its launcher starts the Model view's config, a refused start
// shows in place, runs are compared and stopped / resumed per row; the first run is one click.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { useModelStore } from '../../../../src-renderer/stores/model';
import { useRunsStore } from '../../../../src-renderer/stores/runs';
import TrainView from '../../../../src-renderer/views/TrainView.vue';
import ModelView from '../../../../src-renderer/views/ModelView.vue';
import { useDatasetsStore } from '../../../../src-renderer/stores/datasets';
import { hostDecided, runConfig } from '../fake-host';
import type { RunSummary } from '@contract';
import { shapesHost as host } from '../shapes-host';

let pinia: ReturnType<typeof createPinia>;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '';
});
afterEach(() => vi.useRealTimers());

const summary = (runId: string, status: RunSummary['status'], loss: number[]): RunSummary =>
  hostDecided({
    runId,
    status,
    config: runConfig({ kind: 'conv', epochs: 3 }),
    dataset: { builtin: 'mnist', count: 1000 },
    epochsDone: loss.length,
    history: { loss, valLoss: loss.map((l) => l * 1.1) },
    startedAt: 1,
  });
const stubs = {
  LossChart: { template: '<div data-testid="loss-chart" />' },
  CompareChart: { props: ['runs'], template: '<div data-testid="compare-chart" :data-runs="runs.length" />' },
};

describe('Train view', () => {
  it('starts the Model view config, shows a refused start in place, compares runs and stops / resumes per row', async () => {
    const t = host({
      'runs:list': () => ({
        ok: true,
        result: [summary('run-b', 'running', [0.05]), summary('run-a', 'stopped', [0.06, 0.04])],
      }),
      'runs:start': () => ({
        ok: false,
        error: { code: 'trainer_unavailable', message: 'The trainer process is not running.' },
      }),
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
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({
      config: { kind: 'conv', epochs: 2 },
      dataset: { builtin: 'mnist', count: 6000 },
    });
    expect(w.find('[data-testid="train-error"]').text()).toMatch(
      /The run could not start: .*trainer process is not running/,
    );

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
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({
      config: { kind: 'conv', latentDim: 16, inputShape: [28, 28, 1] },
      dataset: { builtin: 'mnist', count: 6000 },
    });
  });

  it('with a stored dataset chosen, the empty state offers to train on it (and MNIST as the other choice)', async () => {
    const t = host();
    const m = useModelStore();
    await useDatasetsStore().refresh();
    m.chooseDataset('shapes-abc123');
    m.applyPreset('dense'); // 32×30 pictures: the conv default would not fit them
    const w = mount(TrainView, { global: { plugins: [pinia], stubs } });
    await flushPromises();
    expect(w.find('[data-testid="train-chosen"]').text()).toBe('Train on Shapes');
    expect(w.find('[data-testid="train-first-run"]').text()).toBe('Train on MNIST instead');
    await w.find('[data-testid="train-chosen"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({
      dataset: { id: 'shapes-abc123', count: 900 },
      name: 'Dense, 128-d code on Shapes',
    });
    // a second run of the same kind gets a name of its own
    t.handlers['runs:start'] = () => ({ ok: true, result: { runId: 'run-2' } });
    await m.train();
    expect(t.calls.filter((c) => c.name === 'runs:start')[1].payload).toMatchObject({
      name: 'Dense, 128-d code on Shapes #2',
    });
  });
});

describe('learning rate outside the usual range', () => {
  it('is accepted with a plain-words warning beside the field, per optimizer', async () => {
    host();
    const m = useModelStore();
    const w = mount(ModelView, { global: { plugins: [pinia] } });
    await flushPromises();
    expect(w.find('[data-testid="warning-learningRate"]').exists()).toBe(false);
    m.form.learningRate = 5;
    await flushPromises();
    expect(w.find('[data-testid="warning-learningRate"]').text()).toBe(
      'unusually high: Adam usually trains between 0.00001 and 0.01; at 5 the loss will likely jump about or become NaN',
    );
    expect(m.valid).toBe(true); // a warning, not an error
    m.form.optimizer = 'sgd';
    m.form.learningRate = 0.1; // fine for SGD
    await flushPromises();
    expect(w.find('[data-testid="warning-learningRate"]').exists()).toBe(false);
    m.form.learningRate = 1e-6;
    await flushPromises();
    expect(w.find('[data-testid="warning-learningRate"]').text()).toMatch(/^unusually low/);
  });
});
