// @vitest-environment happy-dom
// The Model view's options for using what a model learns (components/model/UsesOptions.vue): the
// test split, left-out labels and balancing reach the run's config; KL warm-up only for VAEs.
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../../src-renderer/api/client';
import { setApi } from '../../../../../src-renderer/api/instance';
import { useModelStore } from '../../../../../src-renderer/stores/model';
import UsesOptions from '../../../../../src-renderer/components/model/UsesOptions.vue';
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
    expect(w.find('[data-testid="error-excludeLabels"]').text()).toBe(
      'every label is left out: nothing would be left to train on',
    );
    expect(m.valid).toBe(false);
    m.applyPreset('photos-64');
    expect(m.form.excludeLabels).toEqual([]);
    expect(m.config).toMatchObject({ kind: 'conv', hidden: [32, 64, 128], latentDim: 128 });
  });
});
