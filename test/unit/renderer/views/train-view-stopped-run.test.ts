// @vitest-environment happy-dom
// The Train view (views/TrainView.vue): a stopped run shows the epochs it finished, not the batch it was in.
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { useRunsStore } from '../../../../src-renderer/stores/runs';
import TrainView from '../../../../src-renderer/views/TrainView.vue';
import { freshPinia, iconsHost, iconsRun } from '../icons-host';
import { runConfig } from '../fake-host';

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

describe('Train view', () => {
  it('shows a stopped run as the epochs it finished, without the batch it was in', async () => {
    iconsHost({
      'runs:list': () => ({
        ok: true,
        result: [
          iconsRun('run-s', 1, {
            status: 'stopped',
            epochsDone: 3,
            config: runConfig({ kind: 'conv', latentDim: 16, epochs: 30 }),
          }),
        ],
      }),
    });
    const w = mount(TrainView, { global: { plugins: [pinia()], stubs: { LossChart: true, CompareChart: true } } });
    await flushPromises();
    useRunsStore().apply('run-s', {
      type: 'batch',
      epoch: 4,
      batch: 1,
      batches: 12,
      loss: 0.1,
      samplesPerSec: 900,
      etaSec: 3,
    });
    await flushPromises();
    const stats = w.find('[data-testid="run-stats"]').text();
    expect(stats).toMatch(/3 of 30 epochs done/);
    expect(stats).not.toMatch(/batch|epoch 4/);
    expect(w.find('[data-testid="run-resume"]').text()).toBe('Resume after epoch 3');
  });
});
