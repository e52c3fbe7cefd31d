// @vitest-environment happy-dom
// Augmentation in the Noise view (views/NoiseView.vue): the preview shows it and a run trains with it.
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { useModelStore } from '../../../../src-renderer/stores/model';
import { freshPinia, iconsHost, px } from '../icons-host';

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

describe('augmentation in the Noise view', () => {
  it('previews with the augmentation asked for and trains with it', async () => {
    const t = iconsHost({
      'noise:preview': () => ({ ok: true, result: { shape: [28, 28, 1], clean: [px(1)], noisy: [px(1)] } }),
      'runs:start': () => ({ ok: true, result: { runId: 'run-a' } }),
    });
    const NoiseView = (await import('../../../../src-renderer/views/NoiseView.vue')).default;
    const w = mount(NoiseView, { global: { plugins: [pinia()] } });
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'noise:preview')?.payload).not.toHaveProperty('augment');
    await w.find('[data-testid="augment-flip"]').setValue(true);
    await w.find('[data-testid="augment-rotate"]').setValue('15');
    await new Promise((r) => setTimeout(r, 400));
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'noise:preview').at(-1)?.payload).toMatchObject({
      augment: { flip: true, shift: 0, rotate: 15, brightness: 0 },
    });
    expect(w.find('[data-row="clean"]').text()).toMatch(/Augmented/);
    await useModelStore().train();
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({
      config: { augment: { flip: true, rotate: 15 } },
    });
    w.unmount();
  });
});
