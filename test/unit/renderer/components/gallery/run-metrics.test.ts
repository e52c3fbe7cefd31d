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
import { evaluation } from '../../evaluation-fixture';

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
