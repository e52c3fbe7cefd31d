// @vitest-environment happy-dom
// What survives a reload of the window: the Model view's draft config is kept in the workspace's
// settings (restored without saving, saved debounced on change); without a draft the Model view
// starts from the newest run, and the run list keeps its order, a finished run's speed and its
// previews from the host.
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { useDatasetsStore } from '../../../../src-renderer/stores/datasets';
import { DRAFT_SAVE_MS, useModelStore } from '../../../../src-renderer/stores/model';
import { useRunsStore } from '../../../../src-renderer/stores/runs';
import { useWorkspaceStore } from '../../../../src-renderer/stores/workspace';
import TrainView from '../../../../src-renderer/views/TrainView.vue';
import type { RunPreview } from '@contract';
import { freshPinia, iconsHost, iconsRun, px, WS } from '../icons-host';

// happy-dom has no 2-D canvas: a stand-in uPlot that only records that a chart was built
vi.mock('uplot', () => ({
  default: class {
    width = 600;
    destroy() {}
    setData() {}
    setSize() {}
  },
}));

const pinia = freshPinia();

describe('what a reload keeps', () => {
  it('restores the Model view from the workspace draft and saves every change there', async () => {
    const draft = {
      dataset: 'icons-abc123',
      count: 404,
      presetId: 'conv',
      form: {
        kind: 'conv',
        latentDim: 16,
        hiddenText: '32, 64',
        epochs: 84,
        batchSize: 32,
        learningRate: 0.002,
        bogus: 'x',
        seed: 'not a number',
        noise: { type: 'gaussian', level: 0.2 },
        excludeLabels: [3, 1, -1],
      },
    };
    const t = iconsHost({
      'workspace:info': () => ({
        ok: true,
        result: { ...WS, settings: { theme: 'system', maxConcurrentRuns: 2, modelDraft: draft } },
      }),
      'settings:set': (p) => ({ ok: true, result: { theme: 'system', maxConcurrentRuns: 2, ...(p as object) } }),
    });
    const m = useModelStore();
    await useWorkspaceStore().init();
    await useDatasetsStore().refresh();
    await flushPromises();
    expect(m.source).toBe('icons-abc123');
    expect(m.count).toBe(404);
    expect(m.form.epochs).toBe(84);
    expect(m.form.seed).toBe(42); // a field of the wrong type is left as it was
    expect(m.form.noise).toEqual({ type: 'gaussian', level: 0.2 });
    expect(m.form.excludeLabels).toEqual([1, 3]); // the left-out labels come back (a bad one is dropped)
    expect(m.config.inputShape).toEqual([32, 32, 3]);
    expect(t.calls.filter((c) => c.name === 'settings:set')).toHaveLength(0); // restoring saves nothing

    vi.useFakeTimers();
    m.form.epochs = 90;
    m.form.latentDim = 24;
    await vi.advanceTimersByTimeAsync(DRAFT_SAVE_MS + 10);
    const saves = t.calls.filter((c) => c.name === 'settings:set');
    expect(saves).toHaveLength(1); // debounced
    expect(saves[0].payload).toMatchObject({
      modelDraft: {
        dataset: 'icons-abc123',
        count: 404,
        form: { epochs: 90, latentDim: 24, hiddenText: '32, 64', excludeLabels: [1, 3] },
      },
    });
    expect(Object.keys((saves[0].payload as { modelDraft: { form: object } }).modelDraft.form)).not.toContain('hidden');
  });

  it('without a draft starts from the newest run; lists runs newest first with their speed and previews from the host', async () => {
    const preview: RunPreview = {
      type: 'preview',
      epoch: 30,
      batch: 12,
      width: 28,
      height: 28,
      channels: 1,
      originals: [px(1)],
      noisy: [px(1)],
      reconstructions: [px(2)],
    };
    const t = iconsHost({
      'workspace:info': () => ({ ok: true, result: { ...WS, settings: { theme: 'system', maxConcurrentRuns: 2 } } }),
      'runs:list': () => ({
        ok: true,
        result: [
          iconsRun('run-new', 300, { samplesPerSec: 2345.6, name: 'Icons, small code' }),
          iconsRun('run-mid', 200),
          iconsRun('run-old', 100),
        ],
      }),
      'runs:preview': (p) => ({ ok: true, result: (p as { runId: string }).runId === 'run-new' ? preview : null }),
    });
    const m = useModelStore();
    await useWorkspaceStore().init();
    await flushPromises();
    expect(m.form.kind).toBe('conv-vae');
    expect(m.form.epochs).toBe(30);
    expect(m.source).toBe('icons-abc123');

    const w = mount(TrainView, { global: { plugins: [pinia()], stubs: { LossChart: true, CompareChart: true } } });
    await flushPromises();
    const runs = useRunsStore();
    expect(runs.order).toEqual(['run-new', 'run-mid', 'run-old']);
    await runs.refresh(); // a second listing keeps the order
    expect(runs.order).toEqual(['run-new', 'run-mid', 'run-old']);
    expect(t.calls.filter((c) => c.name === 'runs:preview').map((c) => c.payload)).toEqual([{ runId: 'run-new' }]);
    await flushPromises();
    expect(w.find('[data-testid="run-stats"]').text()).toMatch(/30 of 30 epochs done.*2,346 samples\/s/);
    expect(w.findAll('[data-testid="preview-grid"] canvas')).toHaveLength(2); // original + reconstruction: no noise, no noisy row
    // names, models and datasets in plain words
    expect(w.find('[data-run="run-new"]').text()).toMatch(
      /Icons, small code.*Convolutional VAE, 16-d code.*Desktop icons \(404\)/,
    );
    expect(w.find('[data-testid="run-open-gallery"]').exists()).toBe(true);
  });

  it("brings back the Train chart's batch-loss line from the host, with the batches streamed since after it", async () => {
    const running = iconsRun('run-live', 300, { status: 'running', epochsDone: 2 });
    const t = iconsHost({
      'workspace:info': () => ({ ok: true, result: { ...WS, settings: { theme: 'system', maxConcurrentRuns: 2 } } }),
      'runs:list': () => ({ ok: true, result: [running, iconsRun('run-old', 100)] }),
      'runs:batchLoss': (p) =>
        (p as { runId: string }).runId === 'run-live'
          ? { ok: true, result: { x: [0.5, 1, 1.5, 2], y: [0.9, 0.7, null, 0.5] } }
          : { ok: true, result: { x: [0.5, 1], y: [0.3, 0.2] } },
    });
    const runs = useRunsStore();
    await runs.init();
    // batches streamed since come after the host's points
    runs.apply('run-live', {
      type: 'batch',
      epoch: 3,
      batch: 1,
      batches: 2,
      loss: 0.4,
      samplesPerSec: 100,
      etaSec: 5,
    } as never);
    await flushPromises();
    expect(runs.runs['run-live'].batchX).toEqual([0.5, 1, 1.5, 2, 2.5]);
    expect(runs.runs['run-live'].batchY).toEqual([0.9, 0.7, Number.NaN, 0.5, 0.4]); // a NaN loss came as null
    runs.apply('run-live', {
      type: 'batch',
      epoch: 3,
      batch: 2,
      batches: 2,
      loss: 0.35,
      samplesPerSec: 100,
      etaSec: 0,
    } as never);
    expect(runs.runs['run-live'].batchX.slice(-1)).toEqual([3]);
    // asked once per run: showing it again does not ask again; another run is asked when shown
    runs.select('run-live');
    runs.select('run-old');
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'runs:batchLoss').map((c) => c.payload)).toEqual([
      { runId: 'run-live' },
      { runId: 'run-old' },
    ]);
    expect(runs.runs['run-old'].batchX).toEqual([0.5, 1]);
  });
});
