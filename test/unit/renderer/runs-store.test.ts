// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../src-renderer/api/client';
import { setApi } from '../../../src-renderer/api/instance';
import { useRunsStore } from '../../../src-renderer/stores/runs';
import { FakeTransport } from './fake-host';

const summary = { runId: 'run-1', status: 'running', config: { kind: 'conv', epochs: 2 }, dataset: { builtin: 'mnist', count: 1000 }, epochsDone: 0, history: { loss: [], valLoss: [] }, startedAt: 1 };

function host() {
  return new FakeTransport({
    'runs:start': (p) => ({ ok: true, result: { runId: 'run-1' }, ...(p ? {} : {}) }),
    'runs:list': () => ({ ok: true, result: [summary] }),
    'runs:stop': () => ({ ok: true, result: { stopping: true } }),
    'runs:resume': () => ({ ok: true, result: { runId: 'run-1' } }),
  });
}

beforeEach(() => setActivePinia(createPinia()));

describe('runs store', () => {
  it('starts a run on built-in MNIST and follows its events into curves and progress', async () => {
    const t = host();
    setApi(createClient(t));
    const runs = useRunsStore();
    await runs.init();
    await runs.start({ kind: 'conv', inputShape: [28, 28, 1], epochs: 2 }, { builtin: 'mnist', count: 1000 });
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({ dataset: { builtin: 'mnist', count: 1000 } });
    expect(runs.selectedId).toBe('run-1');
    t.emit('runs:event', { runId: 'run-1', event: { type: 'batch', epoch: 1, batch: 5, batches: 10, loss: 0.2, samplesPerSec: 900, etaSec: 12 } });
    t.emit('runs:event', { runId: 'run-1', event: { type: 'epoch', epoch: 1, epochs: 2, loss: 0.1, valLoss: 0.09, samplesPerSec: 1000, etaSec: 5, elapsedSec: 5 } });
    const v = runs.selected!;
    expect(v.batchX).toEqual([0.5]);
    expect(v.epochLoss).toEqual([0.1]);
    expect(v.valLoss).toEqual([0.09]);
    expect(v.summary.epochsDone).toBe(1);
    t.emit('runs:status', { runId: 'run-1', status: 'failed', message: 'The trainer process stopped during this run (killed).', epochsDone: 1 });
    await flushPromises();
    await runs.resume('run-1');
    expect(t.calls.map((c) => c.name)).toContain('runs:resume');
  });

  it('ignores events of unknown runs', async () => {
    setApi(createClient(host()));
    const runs = useRunsStore();
    runs.apply('nope', { type: 'batch', epoch: 1, batch: 1, batches: 1, loss: 1, samplesPerSec: 1, etaSec: 1 });
    expect(Object.keys(runs.runs)).toEqual([]);
  });
});
