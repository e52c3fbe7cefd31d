// Batch-size guidance through the real host and trainer process: the training step is
// timed at batch 16…256 for the chosen architecture; a small batch on a small model is
// dispatch-bound and gets a hint; nothing is measured while a run trains.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import type { Envelope, RunStatusPayload } from '../../src-main/contract';
import { createTestSupervisor } from '../helpers/trainer';

let host: Host;
const statuses: RunStatusPayload[] = [];
beforeAll(() => {
  host = createHost({
    mode: 'serve',
    version: 'test',
    trainer: createTestSupervisor(),
    workspaceDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ae-speed-')),
  });
  host.subscribe((name, p) => name === 'runs:status' && statuses.push(p as RunStatusPayload));
});
afterAll(async () => {
  await host.dispose();
});

type Speed = { rates: Array<{ batchSize: number; samplesPerSec: number }>; advice: string | null };

describe('models:speed', () => {
  it('times the real step per batch size and says when the chosen batch is dispatch-bound', async () => {
    const config = { kind: 'dense', inputShape: [28, 28, 1], latentDim: 32, hidden: [64], batchSize: 16 };
    const env = (await host.dispatch('models:speed', { config })) as Envelope<Speed>;
    expect(env.ok, JSON.stringify(env)).toBe(true);
    const { rates, advice } = (env as { ok: true; result: Speed }).result;
    expect(rates.map((r) => r.batchSize)).toEqual([16, 32, 64, 128, 256]);
    for (const r of rates) expect(r.samplesPerSec).toBeGreaterThan(0);
    // a small dense model: per-step overhead dominates at 16, so 256 trains far more samples per second
    expect(rates[4].samplesPerSec).toBeGreaterThan(2 * rates[0].samplesPerSec);
    expect(advice).toMatch(/^Batch 16 trains this model slowly/);
    // at the best batch there is nothing to advise
    const best = rates.reduce((a, b) => (b.samplesPerSec > a.samplesPerSec ? b : a)).batchSize;
    const again = (await host.dispatch('models:speed', { config: { ...config, batchSize: best } })) as {
      ok: true;
      result: Speed;
    };
    expect(again.result.advice).toBeNull();
  }, 120_000);

  it('refuses an invalid config with the field, and refuses to measure while a run trains', async () => {
    const bad = (await host.dispatch('models:speed', {
      config: { kind: 'conv', inputShape: [30, 30, 1] },
    })) as Envelope;
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).toMatch(/divisible by 4|multiple of 4/);
    const cfg = {
      kind: 'dense',
      inputShape: [28, 28, 1],
      latentDim: 16,
      epochs: 50,
      batchSize: 32,
      previewEvery: 1000,
    };
    const started = (await host.dispatch('runs:start', {
      config: cfg,
      dataset: { builtin: 'mnist', count: 2000 },
    })) as { ok: true; result: { runId: string } };
    const busy = (await host.dispatch('models:speed', { config: cfg })) as Envelope;
    expect(busy.ok).toBe(false);
    expect(JSON.stringify(busy)).toMatch(/no run is training/);
    await host.dispatch('runs:stop', { runId: started.result.runId });
    await expect
      .poll(() => statuses.some((s) => s.runId === started.result.runId && s.status === 'stopped'), { timeout: 60_000 })
      .toBe(true);
  }, 120_000);
});
