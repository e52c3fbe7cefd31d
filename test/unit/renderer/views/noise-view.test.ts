// @vitest-environment happy-dom
// The Noise view (views/NoiseView.vue, stores/noise.ts): the debounced live preview of the chosen
// noise, only the newest answer kept, errors in place — over the in-memory fake host.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { useModelStore } from '../../../../src-renderer/stores/model';
import { DEBOUNCE_MS, useNoiseStore } from '../../../../src-renderer/stores/noise';
import NoiseView from '../../../../src-renderer/views/NoiseView.vue';
import { shapesHost as host, px } from '../shapes-host';

let pinia: ReturnType<typeof createPinia>;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '';
});
afterEach(() => vi.useRealTimers());

describe('Noise view', () => {
  it('previews the chosen noise, debounces changes, keeps only the newest answer, and shows errors in place', async () => {
    const t = host();
    useModelStore().setNoise({ type: 'gaussian', level: 0.3 });
    const w = mount(NoiseView, { global: { plugins: [pinia] } });
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'noise:preview')).toHaveLength(1);
    expect(t.calls.find((c) => c.name === 'noise:preview')?.payload).toMatchObject({
      dataset: { builtin: 'mnist' },
      noise: { type: 'gaussian', level: 0.3 },
      count: 12,
      seed: 1,
    });
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
    t.handlers['noise:preview'] = () =>
      new Promise(
        (resolve) =>
          (release = () => resolve({ ok: true, result: { shape: [28, 28, 1], clean: [px(1)], noisy: [px(1)] } })),
      );
    const slow = n.refresh();
    t.handlers['noise:preview'] = () => ({ ok: true, result: { shape: [28, 28, 1], clean: [px(2)], noisy: [px(2)] } });
    await n.refresh();
    release();
    await slow;
    expect(n.preview?.clean).toEqual([px(2)]);

    t.handlers['noise:preview'] = () => ({
      ok: false,
      error: { code: 'invalid_payload', message: "There is no dataset 'gone' in this workspace (deleted?)." },
    });
    await w.find('[data-testid="noise-reroll"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-testid="noise-error"]').text()).toMatch(/The preview could not be made: .*no dataset 'gone'/);
    w.unmount();
  });
});
