// The renderer tests' fake host for a workspace: its info and settings, runs as the host lists
// them, export records; used by the workspace store's and the Export view's tests.
import { createClient } from '../../../src-renderer/api/client';
import { setApi } from '../../../src-renderer/api/instance';
import { APP, FakeTransport, hostDecided, runConfig } from './fake-host';
import type { ExportRecord, ModelKind, RunSummary, WorkspaceInfo } from '@contract';

export const run = (runId: string, status: RunSummary['status'], kind: ModelKind = 'conv'): RunSummary =>
  hostDecided({
    runId,
    status,
    config: runConfig({ kind }),
    dataset: { builtin: 'mnist', count: 600 },
    epochsDone: 1,
    history: { loss: [0.1], valLoss: [0.1] },
    startedAt: 1,
  });
export const settings: WorkspaceInfo['settings'] = { theme: 'system', maxConcurrentRuns: 2 };
export const info = (over: Partial<WorkspaceInfo> = {}): WorkspaceInfo => ({
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
export const record = (exportId: string, format: ExportRecord['format'], fileName: string): ExportRecord => ({
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

export function workspaceHost(extra: ConstructorParameters<typeof FakeTransport>[0] = {}) {
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
