// @vitest-environment happy-dom
// A run's end-of-run metrics (components/gallery/RunMetrics.vue): training, validation and test
// figures side by side, and the training step's path.
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../../src-renderer/api/client';
import { setApi } from '../../../../../src-renderer/api/instance';
import RunMetrics from '../../../../../src-renderer/components/gallery/RunMetrics.vue';
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
  setActivePinia(createPinia());
  t = new FakeTransport({
    'evaluate:run': (p) => ({ ok: true, result: evaluation(p.anomalous ?? []) }),
    'datasets:list': () => ({ ok: true, result: [] }),
  });
  setApi(createClient(t));
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
          step: {
            step: 'tfjs',
            reason: 'the encoder has a layer or connection the fast step does not know',
            fallback: true,
          },
        } as never,
      },
    });
    expect(noTest.find('[data-testid="end-test"]').exists()).toBe(false);
    expect(noTest.text()).toMatch(/No test split/);
    expect(noTest.find('[data-testid="run-step-path"]').text()).toMatch(/slower tfjs path \(the encoder has a layer/);
  });
});
