// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../src-renderer/api/client';
import { setApi } from '../../../../src-renderer/api/instance';
import { useRunsStore } from '../../../../src-renderer/stores/runs';
import { FakeTransport, hostDecided, runConfig } from '../fake-host';
import type { RunSummary } from '@contract';

const summary: RunSummary = {
  runId: 'run-1',
  status: 'running',
  config: runConfig({ kind: 'conv', epochs: 2 }),
  dataset: { builtin: 'mnist', count: 1000 },
  epochsDone: 0,
  history: { loss: [], valLoss: [] },
  startedAt: 1,
};

/** A host that keeps its one run's state as the real one does: started → running, stop → stopped (with its status event), resume → running again. */
function host() {
  let run: RunSummary | undefined;
  const t: FakeTransport = new FakeTransport({
    'runs:start': ({ config, dataset }) => {
      run = { ...summary, config: runConfig(config), dataset: dataset as RunSummary['dataset'], status: 'running' };
      return { ok: true, result: { runId: run.runId } };
    },
    'runs:list': () => ({ ok: true, result: run ? [hostDecided(run)] : [] }),
    'runs:stop': ({ runId }) => {
      if (!run || run.runId !== runId)
        return { ok: false, error: { code: 'not_found', message: `There is no run '${runId}'.` } };
      const stopping = run.status === 'running';
      if (stopping)
        queueMicrotask(() => {
          run = { ...run!, status: 'stopped' };
          t.emit('runs:status', {
            runId,
            status: 'stopped',
            epochsDone: run.epochsDone,
            message: 'Stopped by the user.',
          });
        });
      return { ok: true, result: { stopping } };
    },
    'runs:resume': ({ runId }) => {
      if (!run || run.runId !== runId)
        return { ok: false, error: { code: 'not_found', message: `There is no run '${runId}'.` } };
      if (run.status === 'running' || run.status === 'completed')
        return { ok: false, error: { code: 'conflict', message: `Run '${runId}' is ${run.status}.` } };
      run = { ...run, status: 'running' };
      return { ok: true, result: { runId } };
    },
  });
  /** The trainer dies mid-run: the host marks the run failed and says so. */
  const failRun = (message: string) => {
    run = { ...run!, status: 'failed', epochsDone: 1, message };
    t.emit('runs:status', { runId: run.runId, status: 'failed', message, epochsDone: 1 });
  };
  return Object.assign(t, { failRun });
}

beforeEach(() => setActivePinia(createPinia()));

describe('runs store', () => {
  it('starts a run on built-in MNIST and follows its events into curves and progress', async () => {
    const t = host();
    setApi(createClient(t));
    const runs = useRunsStore();
    await runs.init();
    await runs.start({ kind: 'conv', inputShape: [28, 28, 1], epochs: 2 }, { builtin: 'mnist', count: 1000 });
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({
      dataset: { builtin: 'mnist', count: 1000 },
    });
    expect(runs.selectedId).toBe('run-1');
    t.emit('runs:event', {
      runId: 'run-1',
      event: { type: 'batch', epoch: 1, batch: 5, batches: 10, loss: 0.2, samplesPerSec: 900, etaSec: 12 },
    });
    t.emit('runs:event', {
      runId: 'run-1',
      event: {
        type: 'epoch',
        epoch: 1,
        epochs: 2,
        loss: 0.1,
        valLoss: 0.09,
        samplesPerSec: 1000,
        etaSec: 5,
        elapsedSec: 5,
      },
    });
    const v = runs.selected!;
    expect(v.batchX).toEqual([0.5]);
    expect(v.epochLoss).toEqual([0.1]);
    expect(v.valLoss).toEqual([0.09]);
    expect(v.summary.epochsDone).toBe(1);
    t.failRun('The trainer process stopped during this run (killed).');
    await flushPromises();
    expect(runs.selected!.summary).toMatchObject({ status: 'failed', resume: 'checkpoint', hasModel: false }); // as the host decided
    await runs.resume('run-1');
    expect(t.calls.map((c) => c.name)).toContain('runs:resume');
    expect(runs.selected!.summary.status).toBe('running');
    // Stop: the host answers stopping, then its status event lands
    await runs.stop('run-1');
    await flushPromises();
    expect(runs.selected!.summary.status).toBe('stopped');
  });

  it('ignores events of unknown runs', async () => {
    setApi(createClient(host()));
    const runs = useRunsStore();
    runs.apply('nope', { type: 'batch', epoch: 1, batch: 1, batches: 1, loss: 1, samplesPerSec: 1, etaSec: 1 });
    expect(Object.keys(runs.runs)).toEqual([]);
  });
});
