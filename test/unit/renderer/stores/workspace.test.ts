// @vitest-environment happy-dom
// The workspace store (stores/workspace.ts) over the in-memory fake host: the theme setting on
// <html> (following the OS again for "system"), and runs reloaded when another workspace opens.
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../src-renderer/api/client';
import { setApi } from '../../../../src-renderer/api/instance';
import { useWorkspaceStore } from '../../../../src-renderer/stores/workspace';
import { APP, FakeTransport, hostDecided, runConfig } from '../fake-host';
import type { ExportRecord, ModelKind, RunSummary, WorkspaceInfo } from '@contract';

const run = (runId: string, status: RunSummary['status'], kind: ModelKind = 'conv'): RunSummary =>
  hostDecided({
    runId,
    status,
    config: runConfig({ kind }),
    dataset: { builtin: 'mnist', count: 600 },
    epochsDone: 1,
    history: { loss: [0.1], valLoss: [0.1] },
    startedAt: 1,
  });
const settings: WorkspaceInfo['settings'] = { theme: 'system', maxConcurrentRuns: 2 };
const info = (over: Partial<WorkspaceInfo> = {}): WorkspaceInfo => ({
  path: '/ws/a',
  schemaVersion: 1,
  datasets: 0,
  runs: 3,
  exports: 0,
  flagged: [],
  settings,
  nativeDialogs: false,
  ...over,
});
const record = (exportId: string, format: ExportRecord['format'], fileName: string): ExportRecord => ({
  exportId,
  runId: 'run-done',
  kind: 'model',
  format,
  part: 'full',
  fileName,
  bytes: 2048,
  files: [fileName],
  createdAt: 2,
  download: `/exports/${exportId}`,
});

function host(extra: ConstructorParameters<typeof FakeTransport>[0] = {}) {
  const t = new FakeTransport({
    'app:info': () => ({ ok: true, result: APP }),
    'runs:list': () => ({
      ok: true,
      result: [run('run-done', 'completed'), run('run-busy', 'running', 'dense'), run('imported-x', 'stopped', 'vae')],
    }),
    'datasets:list': () => ({ ok: true, result: [] }),
    'export:list': () => ({ ok: true, result: [] }),
    'workspace:info': () => ({
      ok: true,
      result: info({ flagged: [{ item: 'notes.txt', message: 'Not something the studio made; left untouched.' }] }),
    }),
    'export:model': (p) => {
      const { format } = p;
      if (format === 'keras')
        return {
          ok: false,
          error: {
            code: 'invalid_payload',
            message: "Layer 'enc_bn' (BatchNormalization) cannot be written as Keras 3.",
          },
        };
      return { ok: true, result: record('exp-1', format, 'run-done-autoencoder.onnx') };
    },
    ...extra,
  });
  setApi(createClient(t));
  return t;
}

beforeEach(() => {
  setActivePinia(createPinia());
  delete document.documentElement.dataset.theme;
});

describe('workspace store', () => {
  it('puts the chosen theme on <html> and follows the OS again for "system"', async () => {
    let current = { ...settings };
    host({
      'workspace:info': () => ({ ok: true, result: info({ settings: current }) }),
      'settings:set': (p) => ((current = { ...current, ...(p as object) }), { ok: true, result: current }),
    });
    const ws = useWorkspaceStore();
    await ws.init();
    expect(document.documentElement.dataset.theme).toBeUndefined();
    await ws.setSettings({ theme: 'dark' });
    await flushPromises();
    expect(document.documentElement.dataset.theme).toBe('dark');
    await ws.setSettings({ theme: 'system' });
    await flushPromises();
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it('reloads runs when the host says another workspace was opened (desktop File menu)', async () => {
    const t = host({ 'workspace:info': () => ({ ok: true, result: info() }) });
    const ws = useWorkspaceStore();
    await ws.init();
    const before = t.calls.filter((c) => c.name === 'runs:list').length;
    t.emit('workspace:changed', info({ path: '/ws/other' }));
    await flushPromises();
    expect(ws.info?.path).toBe('/ws/other');
    expect(t.calls.filter((c) => c.name === 'runs:list').length).toBeGreaterThan(before);
  });
});
