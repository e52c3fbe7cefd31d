// @vitest-environment happy-dom
// The Gallery's Features / Per class / Anomalies panel and the Model view's options for using
// what a model learns, over the in-memory fake host: the panel shows the host's numbers (never its
// own), marking a label anomalous asks the host for the ROC curve, the threshold shows the host's
// count for that edge with the worst images; the options reach the run's config.
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../src-renderer/api/client';
import { setApi } from '../../../../src-renderer/api/instance';
import { useModelStore } from '../../../../src-renderer/stores/model';
import UsesPanel from '../../../../src-renderer/components/gallery/UsesPanel.vue';
import UsesOptions from '../../../../src-renderer/components/model/UsesOptions.vue';
import RunMetrics from '../../../../src-renderer/components/gallery/RunMetrics.vue';
import { FakeTransport } from '../fake-host';
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
    expect(t.calls.filter((c) => c.name === 'evaluate:run')).toEqual([{ name: 'evaluate:run', payload: { runId: 'run-1', anomalous: [] } }]);
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

  it("shows the host's refusal in place", async () => {
    t.handlers['evaluate:run'] = () => ({ ok: false, error: { code: 'invalid_payload', message: "Run 'run-2' has no trained model yet" } });
    const w = mount(UsesPanel, { props: { runId: 'run-2' } });
    await flushPromises();
    expect(w.find('.error').text()).toMatch(/no trained model yet/);
  });
});

describe('end-of-run metrics', () => {
  it("shows the run summary's training, validation and test figures side by side, and the step path", () => {
    const split = (count: number, mse: number) => ({ count, loss: mse, mse, psnr: 20, ssim: 0.8 });
    const summary = {
      runId: 'run-1',
      status: 'completed',
      config: {},
      dataset: { builtin: 'mnist', count: 1000 },
      epochsDone: 3,
      history: { loss: [], valLoss: [] },
      startedAt: 1,
      metrics: { train: split(700, 0.011), val: split(200, 0.012), test: split(100, 0.0135) },
      step: { step: 'graph', reason: null, fallback: false },
    } as const;
    const w = mount(RunMetrics, { props: { summary: summary as never } });
    expect(w.find('[data-testid="end-test"]').text()).toMatch(/test\s*100\s*0\.01350\s*0\.01350\s*20\.00 dB\s*0\.800/);
    expect(w.find('[data-testid="end-validation"]').text()).toMatch(/validation\s*200/);
    expect(w.find('[data-testid="run-step-path"]').text()).toBe('Trained with one TensorFlow graph per step.');
    const noTest = mount(RunMetrics, {
      props: {
        summary: {
          ...summary,
          metrics: { ...summary.metrics, test: null },
          step: { step: 'tfjs', reason: 'the encoder has a layer or connection the fast step does not know', fallback: true },
        } as never,
      },
    });
    expect(noTest.find('[data-testid="end-test"]').exists()).toBe(false);
    expect(noTest.text()).toMatch(/No test split/);
    expect(noTest.find('[data-testid="run-step-path"]').text()).toMatch(/slower tfjs path \(the encoder has a layer/);
  });
});

describe('Model view: bigger pictures, held-out data, rare and anomalous classes', () => {
  it('puts test split, left-out labels and balancing into the config; KL warm-up only for VAEs', async () => {
    const m = useModelStore();
    const w = mount(UsesOptions);
    await flushPromises();
    await w.find('[data-testid="exclude-2"]').setValue(true);
    await w.find('[data-testid="exclude-7"]').setValue(true);
    await w.find('[data-testid="field-balanceClasses"]').setValue(true);
    await w.find('[data-testid="field-testSplit"]').setValue('0.1');
    expect(m.config).toMatchObject({ excludeLabels: [2, 7], balanceClasses: true, testSplit: 0.1, klWarmupEpochs: 0 });
    expect(m.valid).toBe(true);
    expect(w.find('[data-testid="field-klWarmupEpochs"]').exists()).toBe(false);
    m.setKind('conv-vae');
    await flushPromises();
    await w.find('[data-testid="field-klWarmupEpochs"]').setValue('3');
    expect(m.config.klWarmupEpochs).toBe(3);
    await w.find('[data-testid="field-testSplit"]').setValue('0.7');
    expect(m.errors.testSplit).toBe('must be at most 0.5');
    for (let i = 0; i < 10; i++) if (![2, 7].includes(i)) m.toggleExcluded(i);
    await flushPromises();
    expect(w.find('[data-testid="error-excludeLabels"]').text()).toBe('every label is left out: nothing would be left to train on');
    expect(m.valid).toBe(false);
    m.applyPreset('photos-64');
    expect(m.form.excludeLabels).toEqual([]);
    expect(m.config).toMatchObject({ kind: 'conv', hidden: [32, 64, 128], latentDim: 128 });
  });
});
