// @vitest-environment happy-dom
// The Model view's form (views/ModelView.vue, stores/model.ts): the network summary stays when only
// a training field is invalid, a speed table goes once the model changes, and the epochs are
// suggested from the dataset's size (also for a dataset just imported).
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { useDatasetsStore } from '../../../../src-renderer/stores/datasets';
import { useModelStore } from '../../../../src-renderer/stores/model';
import ModelView from '../../../../src-renderer/views/ModelView.vue';
import { freshPinia, icons, iconsHost } from '../icons-host';

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

describe('the Model view form', () => {
  it('keeps the network summary when only a training field is invalid, and drops a stale speed table', async () => {
    iconsHost({
      'models:speed': () => ({ ok: true, result: { rates: [{ batchSize: 32, samplesPerSec: 3200 }], advice: null } }),
    });
    const w = mount(ModelView, { global: { plugins: [pinia()] } });
    await flushPromises();
    await w.find('[data-testid="field-validationSplit"]').setValue('0.9');
    expect(w.find('[data-testid="error-validationSplit"]').exists()).toBe(true);
    expect(w.find('[data-testid="model-summary"]').exists()).toBe(true);
    await w.find('[data-testid="field-validationSplit"]').setValue('0.1');

    await w.find('[data-testid="measure-speed"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-testid="speed-table"]').exists()).toBe(true);
    await w.find('[data-testid="field-epochs"]').setValue('9'); // not the model: the table stays
    expect(w.find('[data-testid="speed-table"]').exists()).toBe(true);
    await w.find('[data-testid="field-latentDim"]').setValue('8');
    expect(w.find('[data-testid="speed-table"]').exists()).toBe(false);
  });

  it('suggests epochs from the dataset size and uses them for a dataset just imported', async () => {
    iconsHost();
    const m = useModelStore();
    const ds = useDatasetsStore();
    await ds.refresh();
    m.chooseDataset('icons-abc123');
    m.applyPreset('conv');
    m.form.epochs = 5; // 404 images, batch 32: 12 steps an epoch, 60 in all
    expect(m.steps.total).toBe(60);
    // one rule (300 steps or 20,000 images seen), stated once: 364 images at 12 steps an epoch need 25 epochs
    expect(m.epochAdvice).toBe(
      'Recognisable reconstructions take about 300 training steps or 20,000 images seen: 5 epochs on 364 training images give 60 steps. 25 epochs are enough.',
    );
    // left-out labels count: without 'files' (101 of 404) the run trains on about 273 images
    m.toggleExcluded(1);
    expect(m.steps.trainCount).toBe(273);
    expect(m.epochAdvice).toMatch(/on 273 training images \(1 label left out\) give 45 steps\. 34 epochs are enough\./);
    // no jumps: every epoch count below the suggestion gets the same suggestion, none from it on
    for (let e = 1; e <= 40; e++) {
      m.form.epochs = e;
      expect(m.steps.suggested).toBe(34);
      expect(!!m.epochAdvice, `${e} epochs`).toBe(e < 34);
    }
    m.toggleExcluded(1);
    m.form.epochs = 5;
    const w = mount(ModelView, { global: { plugins: [pinia()] } });
    await flushPromises();
    await w.find('[data-testid="use-suggested-epochs"]').trigger('click');
    expect(m.form.epochs).toBe(25);
    expect(w.find('[data-testid="epoch-advice"]').exists()).toBe(false);
    m.chooseDataset('builtin:mnist');
    m.count = 6000;
    m.form.epochs = 5;
    expect(m.epochAdvice).toBeUndefined(); // 6,000 digits: enough to learn from

    // an import finishing switches the Model view to the new dataset with suggested epochs
    const t = iconsHost({ 'datasets:import': () => ({ ok: true, result: { jobId: 'imp-1' } }) });
    ds.subscribe();
    ds.staged = { source: { paths: ['/x'] }, files: 404, suggestedName: 'icons' };
    await ds.startImport();
    t.emit('datasets:importDone', {
      jobId: 'imp-1',
      status: 'done',
      manifest: icons,
      report: { imported: 404, skipped: [], labelCounts: {} },
    });
    await flushPromises();
    expect(m.source).toBe('icons-abc123');
    expect(m.form.epochs).toBe(25);
  });
});
