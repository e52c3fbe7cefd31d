// @vitest-environment happy-dom
// The keyboard shortcuts (composables/useShortcuts.ts) in the whole window (App.vue): Alt+number
// switches views, ? lists the shortcuts, Alt+Enter trains, Alt+S stops, Alt+R resumes where it can.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../src-renderer/api/client';
import { setApi } from '../../../../src-renderer/api/instance';
import { useRunsStore } from '../../../../src-renderer/stores/runs';
import { useUiStore } from '../../../../src-renderer/stores/ui';
import App from '../../../../src-renderer/App.vue';
import { readyHost, runConfig } from '../fake-host';
import type { RunSummary } from '@contract';

let pinia: ReturnType<typeof createPinia>;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '';
});
afterEach(() => vi.useRealTimers());

const stubs = {
  LossChart: { template: '<div data-testid="loss-chart" />' },
  CompareChart: { props: ['runs'], template: '<div data-testid="compare-chart" :data-runs="runs.length" />' },
};

describe('keyboard shortcuts', () => {
  it('Alt+number switches to the Noise view, ? lists the shortcuts, Alt+Enter trains, Alt+S stops', async () => {
    const t = readyHost();
    t.handlers['runs:start'] = () => ({ ok: true, result: { runId: 'run-k' } });
    t.handlers['runs:stop'] = () => ({ ok: true, result: { stopping: true } });
    t.handlers['noise:preview'] = () => ({ ok: true, result: { shape: [28, 28, 1], clean: [], noisy: [] } });
    setApi(createClient(t));
    const w = mount(App, { global: { plugins: [pinia], stubs }, attachTo: document.body });
    await flushPromises();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '3', altKey: true }));
    await flushPromises();
    expect(w.find('[data-testid="view-noise"]').exists()).toBe(true);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '?' }));
    await flushPromises();
    expect(w.find('[data-testid="shortcuts-help"]').text()).toMatch(
      /Alt\s*\+\s*Enter.*Train the Model view's configuration/s,
    );
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await flushPromises();
    expect(w.find('[data-testid="shortcuts-help"]').exists()).toBe(false);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', altKey: true }));
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({ config: { kind: 'conv' } });
    expect(useUiStore().view).toBe('train');
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 's', code: 'KeyS', altKey: true }));
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'runs:stop')?.payload).toEqual({ runId: 'run-k' });
    w.unmount();
  });

  it('Alt+R resumes the selected run only where the host says it continues from a checkpoint', async () => {
    const t = readyHost();
    const stopped: RunSummary = {
      runId: 'run-r',
      status: 'stopped',
      config: runConfig({ kind: 'conv', epochs: 5 }),
      dataset: { builtin: 'mnist', count: 600 },
      epochsDone: 2,
      history: { loss: [0.2, 0.1], valLoss: [null, null] },
      startedAt: 1,
    };
    // the checkpoint folder is gone: the host offers no resume from it, whatever epochsDone says
    let listed: RunSummary = { ...stopped, hasModel: false, resume: 'start' };
    t.handlers['runs:list'] = () => ({ ok: true, result: [listed] });
    t.handlers['runs:resume'] = ({ runId }) => ({ ok: true, result: { runId } });
    t.handlers['noise:preview'] = () => ({ ok: true, result: { shape: [28, 28, 1], clean: [], noisy: [] } });
    setApi(createClient(t));
    const w = mount(App, { global: { plugins: [pinia], stubs }, attachTo: document.body });
    await useRunsStore().refresh();
    useRunsStore().select('run-r');
    expect(useRunsStore().selected?.summary).toMatchObject({ status: 'stopped', epochsDone: 2 });
    const altR = async () => {
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'r', code: 'KeyR', altKey: true }));
      await flushPromises();
    };
    await altR();
    expect(t.calls.filter((c) => c.name === 'runs:resume')).toEqual([]);
    listed = { ...stopped, hasModel: false, resume: 'checkpoint' };
    await useRunsStore().refresh();
    await altR();
    expect(t.calls.filter((c) => c.name === 'runs:resume').map((c) => c.payload)).toEqual([{ runId: 'run-r' }]);
    w.unmount();
  });
});
