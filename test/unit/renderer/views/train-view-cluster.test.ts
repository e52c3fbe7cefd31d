// @vitest-environment happy-dom
// The Train view for a run imported from a cluster job: its curves come from the
// history like any run's, and a panel says which epochs the cluster trained, on how many workers
// and how fast.
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../../src-renderer/api/client';
import { setApi } from '../../../../src-renderer/api/instance';
import { useRunsStore } from '../../../../src-renderer/stores/runs';
import TrainView from '../../../../src-renderer/views/TrainView.vue';
import { APP, FakeTransport, runConfig } from '../fake-host';
import type { RunSummary } from '@contract';

const imported: RunSummary = {
  runId: 'imported-job-1',
  status: 'completed',
  config: runConfig({ kind: 'dense', epochs: 3 }),
  dataset: { builtin: 'mnist', count: 400 },
  epochsDone: 3,
  history: { loss: [0.2, 0.1, 0.05], valLoss: [0.21, 0.11, 0.06] },
  startedAt: 1,
  message: 'Trained on a cluster: 2 epochs with PyTorch DDP on 2 workers.',
  cluster: {
    from: '/jobs/run-1-torch-job',
    name: 'run-1',
    startEpoch: 1,
    epochs: [
      { epoch: 2, samplesPerSec: 2400, worldSize: 2, seconds: 0.15, restart: 0 },
      { epoch: 3, samplesPerSec: 3100, worldSize: 2, seconds: 0.12, restart: 1 },
    ],
    importedAt: 2,
  },
};

beforeEach(() => setActivePinia(createPinia()));

describe('Train view: a run imported from a cluster job', () => {
  it('shows every epoch in the curves and the cluster epochs with workers and samples/s', async () => {
    setApi(
      createClient(
        new FakeTransport({
          'app:info': () => ({ ok: true, result: APP }),
          'runs:list': () => ({ ok: true, result: [imported] }),
          'datasets:list': () => ({ ok: true, result: [] }),
        }),
      ),
    );
    // uPlot needs a canvas, which happy-dom lacks: the charts are stubbed (their data is in the store)
    const w = mount(TrainView, {
      global: { stubs: { LossChart: { template: '<div />' }, CompareChart: { template: '<div />' } } },
    });
    await flushPromises();
    const runs = useRunsStore();
    expect(runs.selected?.epochLoss).toEqual([0.2, 0.1, 0.05]);
    expect(runs.selected?.valLoss).toEqual([0.21, 0.11, 0.06]);
    const panel = w.get('[data-testid="run-cluster"]');
    expect(panel.text()).toMatch(
      /Trained on a cluster \(PyTorch DDP\): epochs 2–3 on 2 workers, after 1 here, 1 restart/,
    );
    const rows = panel.findAll('tbody tr').map((r) => r.findAll('td').map((td) => td.text()));
    expect(rows[0]).toEqual(['2', '2', (2400).toLocaleString(), '0.1', '0.10000', '0.11000']);
    expect(rows[1][2]).toBe((3100).toLocaleString());
    expect(panel.text()).toContain('/jobs/run-1-torch-job');
  });
});
