// @vitest-environment happy-dom
// The Gallery's samplers side by side, over the in-memory fake host: a grid per sampler (the prior
// of a plain autoencoder shown as not applying), Reroll asks for a new draw, Measure asks the host
// to measure and the table shows the host's numbers (never its own) beside the floor, with the
// lowest Fréchet distance marked; a refusal shows in place.
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../src-renderer/api/client';
import { setApi } from '../../../../src-renderer/api/instance';
import { useGalleryStore } from '../../../../src-renderer/stores/gallery';
import SamplersPanel from '../../../../src-renderer/components/gallery/SamplersPanel.vue';
import { FakeTransport } from '../fake-host';
import type { GallerySamplers } from '@contract';

const px = btoa(String.fromCharCode(...new Array<number>(784).fill(128)));
const names = ['prior', 'diagonal', 'full', 'gmm', 'two-stage'];
function answer(measure: boolean): GallerySamplers {
  return {
    shape: [28, 28, 1],
    chosen: 'gmm',
    samplers: names.map((name) =>
      name === 'prior'
        ? { name, title: 'VAE prior N(0, I)', skipped: 'not a VAE: its codes were never pulled towards N(0, I)' }
        : {
            name,
            title: `title ${name}`,
            description: name === 'gmm' ? 'Gaussian mixture (EM), k = 4' : `title ${name}`,
            images: new Array(8).fill(px),
          },
    ),
    measured: measure
      ? {
          measuredAt: '2026-12-06T15:00:00.000Z',
          features: {
            kind: 'classifier',
            description: 'penultimate layer (64-d) of a small convolutional classifier',
            dim: 64,
          },
          featuresNote: 'loaded from the workspace cache (feature-nets/)',
          count: 1000,
          fittedOn: 5000,
          k: 3,
          floor: { frechet: 0.4321, precision: 0.81, recall: 0.79 },
          reconstructions: { frechet: 9.87, precision: 0.6, recall: 0.2 },
          samplers: [
            { name: 'prior', skipped: 'not a VAE' },
            { name: 'diagonal', scores: { frechet: 30.5, precision: 0.4, recall: 0.1 } },
            { name: 'full', scores: { frechet: 20.25, precision: 0.5, recall: 0.3 } },
            { name: 'gmm', scores: { frechet: 12.125, precision: 0.55, recall: 0.35 } },
            { name: 'two-stage', scores: { frechet: 14, precision: 0.52, recall: 0.33 } },
          ],
        }
      : null,
  };
}

let t: FakeTransport;
beforeEach(() => {
  setActivePinia(createPinia());
  t = new FakeTransport({ 'gallery:samplers': (p) => ({ ok: true, result: answer(p.measure ?? false) }) });
  setApi(createClient(t));
  useGalleryStore().runId = 'run-1';
});

describe('Gallery: samplers side by side', () => {
  it('shows a grid per sampler, rerolls, and measures with the host’s numbers beside the floor', async () => {
    const w = mount(SamplersPanel);
    expect(t.calls).toEqual([]); // on demand: fitting samplers takes seconds
    await w.find('[data-testid="samplers-show"]').trigger('click');
    await flushPromises();
    expect(t.calls.at(-1)).toEqual({
      name: 'gallery:samplers',
      payload: { runId: 'run-1', count: 8, seed: 1, measure: false },
    });
    expect(w.find('[data-testid="sampler-prior"]').text()).toMatch(/Not shown: not a VAE/);
    for (const n of names.slice(1)) expect(w.find(`[data-testid="sampler-${n}"]`).findAll('canvas').length).toBe(8);
    expect(w.find('[data-testid="sampler-gmm"]').text()).toMatch(/chosen.*k = 4/s);
    expect(w.find('[data-testid="samplers-table"]').exists()).toBe(false);
    expect(w.text()).toMatch(/Not measured yet/);
    await w.find('[data-testid="samplers-show"]').trigger('click');
    await flushPromises();
    expect(t.calls.at(-1)!.payload).toMatchObject({ seed: 2, measure: false });

    await w.find('[data-testid="samplers-measure"]').trigger('click');
    await flushPromises();
    expect(t.calls.at(-1)!.payload).toMatchObject({ measure: true });
    const table = w.find('[data-testid="samplers-table"]');
    expect(table.find('[data-testid="samplers-row-floor"]').text()).toMatch(/the floor\)\s*0\.432\s*0\.810\s*0\.790/);
    expect(table.find('[data-testid="samplers-row-reconstructions"]').text()).toMatch(/9\.870\s*0\.600\s*0\.200/);
    expect(table.find('[data-testid="samplers-row-gmm"]').text()).toMatch(
      /title gmm\s*lowest\s*12\.125\s*0\.550\s*0\.350/,
    );
    expect(table.find('[data-testid="samplers-row-full"]').text()).not.toMatch(/lowest/);
    expect(table.find('[data-testid="samplers-row-prior"]').text()).toMatch(/not a VAE/);
    expect(w.find('[data-testid="samplers-features"]').text()).toMatch(/64-d.*workspace cache/);
  });

  it('Use for this run asks the host to make that sampler the run’s own, marks it chosen and redraws the samples', async () => {
    t.handlers['gallery:chooseSampler'] = (p) => ({
      ok: true,
      result: { chosen: p.sampler, description: 'full-covariance Gaussian', fittedOn: 900 },
    });
    t.handlers['gallery:samples'] = () => ({ ok: true, result: { shape: [28, 28, 1], images: [px] } });
    const w = mount(SamplersPanel);
    await w.find('[data-testid="samplers-show"]').trigger('click');
    await flushPromises();
    // the chosen one has its mark and no button; a sampler that does not apply has neither
    expect(w.find('[data-testid="sampler-use-gmm"]').exists()).toBe(false);
    expect(w.find('[data-testid="sampler-use-prior"]').exists()).toBe(false);
    expect(w.find('[data-testid="sampler-gmm"] [data-testid="sampler-chosen"]').exists()).toBe(true);
    await w.find('[data-testid="sampler-use-full"]').trigger('click');
    await flushPromises();
    expect(t.calls.slice(-2)).toEqual([
      { name: 'gallery:chooseSampler', payload: { runId: 'run-1', sampler: 'full' } },
      { name: 'gallery:samples', payload: { runId: 'run-1', count: 16, seed: 1 } },
    ]);
    expect(w.find('[data-testid="sampler-full"] [data-testid="sampler-chosen"]').exists()).toBe(true);
    expect(w.find('[data-testid="sampler-gmm"] [data-testid="sampler-chosen"]').exists()).toBe(false);
    expect(w.find('[data-testid="sampler-use-gmm"]').exists()).toBe(true);
    expect(useGalleryStore().samples?.images).toEqual([px]);
  });

  it('shows the host’s refusal in place', async () => {
    t.handlers['gallery:samplers'] = () => ({
      ok: false,
      error: { code: 'conflict', message: "Run 'run-1' has no trained model yet" },
    });
    const w = mount(SamplersPanel);
    await w.find('[data-testid="samplers-measure"]').trigger('click');
    await flushPromises();
    expect(w.find('[role="alert"]').text()).toMatch(/no trained model yet/);
  });
});
