// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import App from '../../../src-renderer/App.vue';
import { createClient } from '../../../src-renderer/api/client';
import { setApi } from '../../../src-renderer/api/instance';
import { useBackendStore } from '../../../src-renderer/stores/backend';
import { useUiStore } from '../../../src-renderer/stores/ui';
import { FakeTransport, INFO, readyHost } from './fake-host';

let pinia: ReturnType<typeof createPinia>;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '';
});

describe('backend store', () => {
  it('goes from starting to ready and summarises the native backend', async () => {
    const host = readyHost();
    setApi(createClient(host));
    const store = useBackendStore();
    expect(store.summary).toBe('Trainer starting…');
    await store.init();
    expect(store.trainer?.state).toBe('ready');
    expect(store.summary).toBe('Backend: tensorflow · TensorFlow 2.21.0 · 2 threads · trainer pid 4242');
    expect(store.appInfo?.mode).toBe('serve');
  });

  it('shows a crash from the trainer:state event and restarts through trainer:restart', async () => {
    const host = readyHost();
    setApi(createClient(host));
    const store = useBackendStore();
    await store.init();
    host.emit('trainer:state', { state: 'crashed', error: 'The trainer process was killed (SIGKILL).', starts: 1, at: 2 });
    expect(store.summary).toBe('Trainer stopped: The trainer process was killed (SIGKILL).');
    await store.restart();
    expect(host.calls.map((c) => c.name)).toContain('trainer:restart');
    expect(store.trainer?.info?.pid).toBe(5000);
  });

  it('turns a failed call into a plain-words error, not a throw', async () => {
    const host = new FakeTransport({
      'app:info': () => ({ ok: true, result: { name: 'A', version: '1', mode: 'serve', platform: 'p', nodeVersion: '20' } }),
      'backend:info': () => ({ ok: false, error: { code: 'trainer_unavailable', message: "TensorFlow's native library could not be loaded." } }),
    });
    setApi(createClient(host));
    const store = useBackendStore();
    await store.init();
    expect(store.lastError).toBe("TensorFlow's native library could not be loaded.");
  });
});

describe('studio frame', () => {
  it('renders five views, switches between them with empty states, and shows the backend', async () => {
    const host = readyHost();
    setApi(createClient(host));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    const navs = wrapper.findAll('[data-testid^="nav-"]');
    expect(navs.map((n) => n.find('.label').text())).toEqual(['Datasets', 'Model', 'Train', 'Gallery', 'Export']);
    expect(wrapper.find('[data-testid="view-datasets"]').text()).toMatch(/Drop a folder/);
    await wrapper.find('[data-testid="nav-train"]').trigger('click');
    expect(wrapper.find('[data-testid="view-train"]').text()).toMatch(/Nothing is training/);
    expect(wrapper.find('[data-testid="view-datasets"]').exists()).toBe(false);
    expect(window.location.hash).toBe('#/train');
    await wrapper.find('[data-testid="nav-gallery"]').trigger('click');
    expect(wrapper.find('[data-testid="view-gallery"]').text()).toMatch(/Train a model/);
    expect(wrapper.find('[data-testid="status-backend"]').text()).toContain('tensorflow');
    expect(wrapper.find('[data-testid="status-backend"]').text()).toContain(INFO.tfVersion);
    expect(wrapper.find('[data-testid="restart-trainer"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('shows the crash in the status bar with a Restart button, and a notice', async () => {
    const host = readyHost();
    setApi(createClient(host));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    host.emit('trainer:state', { state: 'crashed', error: 'The trainer process was killed (SIGKILL).', starts: 1, at: 2 });
    host.emit('app:notice', { level: 'error', message: 'The trainer process was killed (SIGKILL).', at: 2 });
    await flushPromises();
    expect(wrapper.find('[data-testid="status-backend"]').text()).toMatch(/SIGKILL/);
    expect(wrapper.find('[data-testid="notice"]').text()).toMatch(/SIGKILL/);
    await wrapper.find('[data-testid="restart-trainer"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-testid="status-backend"]').text()).toContain('pid 5000');
    wrapper.unmount();
  });

  it('switches views with Alt+number', async () => {
    setApi(createClient(readyHost()));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '5', altKey: true }));
    await flushPromises();
    expect(useUiStore().view).toBe('export');
    expect(wrapper.find('[data-testid="view-export"]').exists()).toBe(true);
    wrapper.unmount();
  });
});
