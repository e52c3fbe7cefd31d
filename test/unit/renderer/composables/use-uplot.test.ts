// @vitest-environment happy-dom
// Charts (composables/useUplot.ts) are built again when the theme changes, so their grid takes the new colours.
import { describe, expect, it, vi } from 'vitest';
import { defineComponent, h, ref } from 'vue';
import { flushPromises, mount } from '@vue/test-utils';
import { themeTick, useUplot } from '../../../../src-renderer/composables/useUplot';

// happy-dom has no 2-D canvas: a stand-in uPlot that only records that a chart was built
vi.mock('uplot', () => ({
  default: class {
    width = 600;
    destroy() {}
    setData() {}
    setSize() {}
  },
}));

describe('charts and the theme', () => {
  it('rebuilds a chart when the theme changes, so its grid takes the new colours', async () => {
    let builds = 0;
    const Chart = defineComponent({
      setup() {
        const el = ref<HTMLDivElement>();
        useUplot(
          el,
          100,
          () => (builds++, { series: [{}, {}] }),
          () => [[1], [1]],
        );
        return () => h('div', { ref: el });
      },
    });
    const w = mount(Chart, { attachTo: document.body });
    const before = builds;
    const tick = themeTick.value;
    document.documentElement.dataset.theme = 'dark';
    await new Promise((r) => setTimeout(r, 0));
    await flushPromises();
    expect(themeTick.value).toBeGreaterThan(tick);
    expect(builds).toBeGreaterThan(before);
    delete document.documentElement.dataset.theme;
    w.unmount();
  });
});
