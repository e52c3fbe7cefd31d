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
import { evaluation } from '../../evaluation-fixture';

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
