// @vitest-environment happy-dom
// The Gallery's Features / Per class / Anomalies panel (components/gallery/UsesPanel.vue) over the
// in-memory fake host: it shows the host's numbers (never its own), marking a label anomalous asks
// the host for the ROC curve, the threshold shows the host's count for that edge with the worst
// images, and a refusal shows in place.
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../../src-renderer/api/client';
import { setApi } from '../../../../../src-renderer/api/instance';
import UsesPanel from '../../../../../src-renderer/components/gallery/UsesPanel.vue';
import { FakeTransport } from '../../fake-host';
import type { Evaluation } from '@contract';

const px = btoa(String.fromCharCode(...new Array<number>(784).fill(128)));
const probe = (accuracy: number) => ({
  accuracy,
  confusion: [
    [40, 10],
    [5, 45],
  ],
  perClass: [0.8, 0.9],
});
function evaluation(anomalous: number[]): Evaluation {
  return {
    labelNames: ['cat', 'dog'],
    shape: [28, 28, 1],
    counts: { total: 500, train: 400, scored: 100 },
    reconstruction: { count: 100, mse: 0.0123, psnr: 19.5, ssim: 0.81 },
    perLabel: [
      { label: 0, total: 250, train: 200, count: 50, mse: 0.01, psnr: 20, ssim: 0.8 },
      { label: 1, total: 250, train: 200, count: 50, mse: 0.0146, psnr: 19, ssim: 0.82 },
    ],
    probes: {
      dims: { codes: 16, pixels: 784, pca: 16 },
      pcaExplained: 0.71,
      trainRows: 400,
      testRows: 100,
      labels: [0, 1],
      linear: { codes: probe(0.853), pixels: probe(0.9), pca: probe(0.88) },
      knn: { codes: probe(0.84), pixels: probe(0.91), pca: probe(0.87), k: 5 },
    },
    histogram: {
      lo: 0,
      hi: 0.04,
      bins: 4,
      perLabel: [
        { label: 0, counts: [20, 20, 8, 2] },
        { label: 1, counts: [10, 20, 15, 5] },
      ],
    },
    edges: [0, 0.01, 0.02, 0.03, 0.04],
    above: [100, 70, 30, 7, 0],
    worst: {
      originals: new Array(10).fill(px),
      reconstructions: new Array(10).fill(px),
      mse: [0.05, 0.04, 0.039, 0.038, 0.037, 0.036, 0.035, 0.034, 0.033, 0.032],
      labels: new Array(10).fill(1),
      indices: [...Array(10).keys()],
    },
    csv: 'index,label,mse,anomalous\n3,1,0.05,1\n',
    anomaly: anomalous.length
      ? {
          anomalous,
          auc: 0.7777,
          positives: 50,
          negatives: 50,
          roc: [
            { fpr: 0, tpr: 0, threshold: null },
            { fpr: 0.5, tpr: 0.8, threshold: 0.01 },
            { fpr: 1, tpr: 1, threshold: 0 },
          ],
        }
      : undefined,
  };
}

let t: FakeTransport;
beforeEach(() => {
  localStorage.clear();
  setActivePinia(createPinia());
  t = new FakeTransport({
    'evaluate:run': (p) => ({ ok: true, result: evaluation(p.anomalous ?? []) }),
    'datasets:list': () => ({ ok: true, result: [] }),
  });
  setApi(createClient(t));
});

describe('Gallery: what the codes are good for', () => {
  it("shows the host's probes, confusion matrix, per-class errors; marking a label asks for the ROC; the threshold shows the host's count", async () => {
    const w = mount(UsesPanel, { props: { runId: 'run-1' } });
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'evaluate:run')).toEqual([
      { name: 'evaluate:run', payload: { runId: 'run-1', anomalous: [] } },
    ]);
    expect(w.find('[data-testid="probe-codes"]').text()).toMatch(/Codes\s*16\s*85\.3%\s*84\.0%/);
    expect(w.find('[data-testid="probe-pixels"]').text()).toMatch(/Pixels\s*784\s*90\.0%\s*91\.0%/);
    expect(w.find('[data-testid="confusion"]').text()).toMatch(/cat.*40.*10.*80\.0%/s);
    expect(w.find('[data-testid="class-1"]').text()).toMatch(/dog\s*250\s*200\s*50\s*0\.01460/);
    // the threshold starts where about the worst 5 % lie above: the host's count at that edge
    expect(w.find('[data-testid="above-count"]').text()).toBe('0');
    await w.find('[data-testid="threshold"]').setValue('3');
    expect(w.find('[data-testid="above-count"]').text()).toBe('7');
    expect(w.find('[data-testid="uses-anomalies"]').text()).toMatch(/MSE ≥ 0\.03000/);
    expect(w.find('[data-testid="above-images"]').findAll('canvas').length).toBe(14); // originals + reconstructions, worst first
    await w.find('[data-testid="threshold"]').setValue('1');
    expect(w.find('[data-testid="above-count"]').text()).toBe('70');
    expect(w.text()).toMatch(/and 60 more/);
    expect(w.find('[data-testid="roc"]').exists()).toBe(false);
    await w.find('[data-testid="anomalous-1"]').setValue(true);
    await flushPromises();
    expect(t.calls.at(-1)).toEqual({ name: 'evaluate:run', payload: { runId: 'run-1', anomalous: [1] } });
    expect(w.find('[data-testid="auc"]').text()).toBe('0.7777');
    expect(w.find('[data-testid="roc"]').text()).toMatch(/dog as anomalous \(50 anomalous vs 50 normal/);
  });

  it('keeps the labels marked anomalous and the threshold across a reload', async () => {
    const w = mount(UsesPanel, { props: { runId: 'run-1' } });
    await flushPromises();
    await w.find('[data-testid="anomalous-1"]').setValue(true);
    await flushPromises();
    await w.find('[data-testid="threshold"]').setValue('3');
    await flushPromises();
    w.unmount();
    // a reload: new stores, the same browser storage
    setActivePinia(createPinia());
    t.calls.length = 0;
    const again = mount(UsesPanel, { props: { runId: 'run-1' } });
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'evaluate:run')).toEqual([
      { name: 'evaluate:run', payload: { runId: 'run-1', anomalous: [1] } },
    ]);
    expect((again.find('[data-testid="anomalous-1"]').element as HTMLInputElement).checked).toBe(true);
    expect(again.find('[data-testid="above-count"]').text()).toBe('7');
    expect(again.find('[data-testid="auc"]').text()).toBe('0.7777');
    // another run starts afresh
    setActivePinia(createPinia());
    t.calls.length = 0;
    mount(UsesPanel, { props: { runId: 'run-3' } });
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'evaluate:run')).toEqual([
      { name: 'evaluate:run', payload: { runId: 'run-3', anomalous: [] } },
    ]);
  });

  it("shows the host's refusal in place", async () => {
    t.handlers['evaluate:run'] = () => ({
      ok: false,
      error: { code: 'invalid_payload', message: "Run 'run-2' has no trained model yet" },
    });
    const w = mount(UsesPanel, { props: { runId: 'run-2' } });
    await flushPromises();
    expect(w.find('.error').text()).toMatch(/no trained model yet/);
  });
});
