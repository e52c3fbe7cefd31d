// @vitest-environment happy-dom
// The backend store (stores/backend.ts) over the in-memory fake host: from starting to ready with the
// native backend summarised, trainer:state events followed, a crash and its restart, a reload after
// a lost connection, and a failed call turned into plain words.
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../src-renderer/api/client';
import { setApi } from '../../../../src-renderer/api/instance';
import { useBackendStore } from '../../../../src-renderer/stores/backend';
import { FakeTransport, INFO, readyHost } from '../fake-host';

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

  it('follows trainer:state events from starting to ready', async () => {
    const host = readyHost();
    host.handlers['backend:info'] = () => new Promise(() => undefined); // the host is still waiting for the trainer
    setApi(createClient(host));
    const store = useBackendStore();
    void store.init();
    await flushPromises();
    host.emit('trainer:state', { state: 'starting', starts: 1, at: 1 });
    expect(store.summary).toBe('Trainer starting…');
    expect(store.failed).toBe(false);
    host.emit('trainer:state', { state: 'ready', info: INFO, starts: 1, at: 2 });
    expect(store.trainer?.state).toBe('ready');
    expect(store.summary).toBe('Backend: tensorflow · TensorFlow 2.21.0 · 2 threads · trainer pid 4242');
  });

  it('shows a crash from the trainer:state event and restarts through trainer:restart', async () => {
    const host = readyHost();
    setApi(createClient(host));
    const store = useBackendStore();
    await store.init();
    host.emit('trainer:state', {
      state: 'crashed',
      error: 'The trainer process was killed (SIGKILL).',
      starts: 1,
      at: 2,
    });
    expect(store.summary).toBe('Trainer stopped: The trainer process was killed (SIGKILL).');
    await store.restart();
    expect(host.calls.map((c) => c.name)).toContain('trainer:restart');
    expect(store.trainer?.info?.pid).toBe(5000);
  });

  it('loads once at start and again after a lost connection comes back', async () => {
    const host = readyHost();
    host.connection = 'connecting';
    setApi(createClient(host));
    const store = useBackendStore();
    await store.init();
    host.setConnection('connected');
    await flushPromises();
    expect(host.calls.filter((c) => c.name === 'app:info')).toHaveLength(1);
    host.setConnection('disconnected');
    expect(store.summary).toMatch(/Disconnected from the studio host/);
    host.setConnection('connecting');
    host.setConnection('connected');
    await flushPromises();
    expect(host.calls.filter((c) => c.name === 'app:info')).toHaveLength(2);
    expect(store.summary).toContain('TensorFlow 2.21.0');
  });

  it('turns a failed call into a plain-words error, not a throw', async () => {
    const host = new FakeTransport({
      'app:info': () => ({
        ok: true,
        result: { name: 'A', version: '1', mode: 'serve', platform: 'p', nodeVersion: '20' },
      }),
      'backend:info': () => ({
        ok: false,
        error: { code: 'trainer_unavailable', message: "TensorFlow's native library could not be loaded." },
      }),
    });
    setApi(createClient(host));
    const store = useBackendStore();
    await store.init();
    expect(store.lastError).toBe("TensorFlow's native library could not be loaded.");
    expect(store.summary).toBe("Trainer unavailable: TensorFlow's native library could not be loaded.");
    expect(store.failed).toBe(true);
  });
});
