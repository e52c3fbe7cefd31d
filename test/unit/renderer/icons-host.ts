// A fake host with one imported dataset (404 desktop icons, 32×32 RGB, four labels) and finished
// conv-VAE runs on it, shared by the renderer tests of what a user with their own pictures meets.
// Each test file gets a fresh Pinia per test, stopped afterwards so no watcher outlives its test.
import { afterEach, beforeEach, vi } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../src-renderer/api/client';
import { setApi } from '../../../src-renderer/api/instance';
import { FakeTransport, hostDecided, runConfig } from './fake-host';
import type { DatasetManifest, RunSummary } from '@contract';

/** `n` pixels of value `v`, base64 as the host sends images. */
export const px = (v: number, n = 784) => btoa(String.fromCharCode(...new Array<number>(n).fill(v)));

export const icons: DatasetManifest = {
  schemaVersion: 1,
  id: 'icons-abc123',
  name: 'Desktop icons',
  source: { kind: 'import', paths: ['/x'] },
  shape: [32, 32, 3],
  count: 404,
  labelNames: ['apps', 'files', 'folders', 'system'],
  labelCounts: [101, 101, 101, 101],
  createdAt: 5,
  options: { size: 32, mode: 'rgb', fit: 'stretch', validationSplit: 0.1, seed: 42 },
};

export const WS = {
  path: '/ws',
  schemaVersion: 1,
  datasets: 1,
  runs: 0,
  exports: 0,
  flagged: [],
  nativeDialogs: false,
};

/** A finished conv VAE on the icons, as the host lists it. */
export const iconsRun = (runId: string, startedAt: number, extra: Partial<RunSummary> = {}): RunSummary =>
  hostDecided({
    runId,
    status: 'completed',
    config: runConfig({
      kind: 'conv-vae',
      latentDim: 16,
      epochs: 30,
      hidden: [32, 64],
      noise: { type: 'none', level: 0 },
    }),
    dataset: { id: 'icons-abc123', count: 404 },
    epochsDone: 30,
    history: { loss: [0.1], valLoss: [0.1] },
    startedAt,
    ...extra,
  } as RunSummary);

/** Installs a fake host listing the icons dataset and no runs, with `extra` handlers on top. */
export function iconsHost(extra: ConstructorParameters<typeof FakeTransport>[0] = {}) {
  const t = new FakeTransport({
    'datasets:list': () => ({ ok: true, result: [icons] }),
    'datasets:preview': () => ({ ok: true, result: { manifest: icons, images: [], mean: px(0, 3072) } }),
    'runs:list': () => ({ ok: true, result: [] }),
    'runs:preview': () => ({ ok: true, result: null }),
    ...extra,
  });
  setApi(createClient(t));
  return t;
}

/** A fresh Pinia for each test of the calling file; `pinia()` is the current one. */
export function freshPinia(): () => ReturnType<typeof createPinia> {
  let pinia: ReturnType<typeof createPinia>;
  beforeEach(() => {
    pinia = createPinia();
    setActivePinia(pinia);
    window.location.hash = '';
  });
  afterEach(async () => {
    vi.useRealTimers();
    await flushPromises();
    (pinia as unknown as { _e: { stop(): void } })._e.stop();
  });
  return () => pinia;
}
