// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import App from '../../../src-renderer/App.vue';
import { createClient } from '../../../src-renderer/api/client';
import { setApi } from '../../../src-renderer/api/instance';
import { useUiStore } from '../../../src-renderer/stores/ui';
import { FakeTransport, INFO, readyHost } from './fake-host';

let pinia: ReturnType<typeof createPinia>;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '';
});

describe('studio frame', () => {
  it('renders six views, switches between them with empty states, and shows the backend', async () => {
    const host = readyHost();
    setApi(createClient(host));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    const navs = wrapper.findAll('[data-testid^="nav-"]');
    expect(navs.map((n) => n.find('.label').text())).toEqual([
      'Datasets',
      'Model',
      'Noise',
      'Train',
      'Gallery',
      'Export',
    ]);
    expect(wrapper.find('[data-testid="view-datasets"]').text()).toMatch(/No datasets yet/);
    await wrapper.find('[data-testid="nav-train"]').trigger('click');
    expect(wrapper.find('[data-testid="view-train"]').text()).toMatch(/Nothing is training/);
    expect(wrapper.find('[data-testid="view-datasets"]').exists()).toBe(false);
    expect(window.location.hash).toBe('#/train');
    await wrapper.find('[data-testid="nav-gallery"]').trigger('click');
    expect(wrapper.find('[data-testid="view-gallery"]').text()).toMatch(/Train a model/);
    await wrapper.find('[data-testid="nav-model"]').trigger('click');
    expect(wrapper.find('[data-testid="view-model"]').text()).toMatch(/Choose a dataset first/);
    await wrapper.find('[data-testid="nav-export"]').trigger('click');
    expect(wrapper.find('[data-testid="view-export"]').text()).toMatch(
      /Export a trained model as TensorFlow\.js, Keras or ONNX/,
    );
    for (const n of navs) expect(n.element.tagName).toBe('A');
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
    host.emit('trainer:state', {
      state: 'crashed',
      error: 'The trainer process was killed (SIGKILL).',
      starts: 1,
      at: 2,
    });
    host.emit('app:notice', { level: 'error', message: 'The trainer process was killed (SIGKILL).', at: 2 });
    await flushPromises();
    expect(wrapper.find('[data-testid="status-backend"]').text()).toMatch(/SIGKILL/);
    expect(wrapper.find('[data-testid="notice"]').text()).toMatch(/SIGKILL/);
    await wrapper.find('[data-testid="restart-trainer"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-testid="status-backend"]').text()).toContain('pid 5000');
    wrapper.unmount();
  });

  it('offers Restart when the backend could not be reached, and clears the error once it works', async () => {
    let broken = true;
    const host = readyHost();
    const ready = host.handlers['backend:info']!;
    host.handlers['backend:info'] = (p) =>
      broken
        ? { ok: false, error: { code: 'trainer_unavailable', message: 'The trainer exited during start-up.' } }
        : ready(p);
    setApi(createClient(host));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    const status = wrapper.find('[data-testid="status-backend"]');
    expect(status.text()).toBe('Trainer unavailable: The trainer exited during start-up.');
    expect(status.classes()).toContain('error');
    broken = false;
    await wrapper.find('[data-testid="restart-trainer"]').trigger('click');
    await flushPromises();
    expect(host.calls.map((c) => c.name)).toContain('trainer:restart');
    expect(wrapper.find('[data-testid="status-backend"]').text()).toContain('pid 5000');
    expect(wrapper.find('[data-testid="restart-trainer"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('says so in plain words when a restart fails', async () => {
    const host = readyHost();
    host.handlers['trainer:restart'] = () => ({
      ok: false,
      error: { code: 'trainer_unavailable', message: 'tfjs-node could not be loaded.' },
    });
    setApi(createClient(host));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    host.emit('trainer:state', { state: 'crashed', error: 'Killed.', starts: 1, at: 2 });
    await flushPromises();
    await wrapper.find('[data-testid="restart-trainer"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-testid="notice"]').text()).toMatch(
      /could not be restarted: tfjs-node could not be loaded\./,
    );
    expect(wrapper.find('[data-testid="notice"]').text()).not.toMatch(/at \w+ \(|Error:/);
    wrapper.unmount();
  });

  it('shows the serve-mode connection and a banner while it is lost', async () => {
    const host = readyHost();
    setApi(createClient(host));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    expect(wrapper.find('[data-testid="status-connection"]').text()).toBe('host: connected');
    expect(wrapper.find('[data-testid="status-app"]').text()).toBe('serve mode · v0.1.0');
    expect(wrapper.find('[data-testid="connection-lost"]').exists()).toBe(false);
    host.setConnection('disconnected');
    await flushPromises();
    expect(wrapper.find('[data-testid="connection-lost"]').text()).toMatch(/reconnecting/);
    expect(wrapper.find('[data-testid="status-backend"]').text()).toMatch(
      /Disconnected from the studio host — reconnecting/,
    );
    host.setConnection('connected');
    await flushPromises();
    expect(wrapper.find('[data-testid="connection-lost"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('shows only the way in when serve mode was opened without a token', async () => {
    const host = new FakeTransport();
    host.connection = 'no-token';
    setApi(createClient(host));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    expect(wrapper.find('[data-testid="no-token"]').text()).toMatch(
      /Open the address printed by npm run serve \(it contains \?token=…\)/,
    );
    expect(wrapper.find('[data-testid="nav-datasets"]').exists()).toBe(false);
    expect(host.calls).toEqual([]);
    wrapper.unmount();
  });

  it('follows the address hash (back/forward)', async () => {
    window.location.hash = '#/model';
    setApi(createClient(readyHost()));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    expect(wrapper.find('[data-testid="view-model"]').text()).toMatch(/Choose a dataset first/);
    expect(wrapper.find('[data-testid="nav-model"]').attributes('aria-current')).toBe('page');
    window.location.hash = '#/export';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await flushPromises();
    expect(wrapper.find('[data-testid="view-export"]').text()).toMatch(/TensorFlow\.js, Keras or ONNX/);
    window.location.hash = '#/nonsense';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await flushPromises();
    expect(wrapper.find('[data-testid="view-export"]').exists()).toBe(true);
    wrapper.unmount();
  });

  it('switches views with Alt+number', async () => {
    setApi(createClient(readyHost()));
    const wrapper = mount(App, { global: { plugins: [pinia] }, attachTo: document.body });
    await flushPromises();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '6', altKey: true }));
    await flushPromises();
    expect(useUiStore().view).toBe('export');
    expect(wrapper.find('[data-testid="view-export"]').exists()).toBe(true);
    wrapper.unmount();
  });
});
