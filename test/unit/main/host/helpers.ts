// What the host service tests share: a real workspace folder in a temp dir, a host made by
// createHost over it with the REAL trainer process (started only when a call needs it), every
// event it emits, and — for the services that need a trained model — a tiny stored dataset and a
// one-epoch run on it, trained by the trainer as any run is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { createHost, type Host, type HostOptions } from '../../../../src-main/host';
import { writeDataset } from '../../../../src-main/datasets/store';
import type { CallName, CallRes, Envelope, EventName, RunSummary } from '../../../../src-main/contract';
import { createTestSupervisor } from '../../../helpers/trainer';

export interface TestHost {
  host: Host;
  ws: string;
  events: Array<[EventName, unknown]>;
  /** Calls through dispatch and returns the result, failing the test on an error envelope. */
  ok<N extends CallName>(name: N, payload: unknown): Promise<CallRes<N>>;
  /** Calls through dispatch and returns the error envelope, failing the test on success. */
  refused(name: CallName, payload: unknown): Promise<{ code: string; message: string }>;
  dispose(): Promise<void>;
}

/** A host over a fresh temp workspace (or `ws`); `prepare(ws)` may fill the folder before the host opens it. */
export function hostInTemp(
  opts: { prepare?: (ws: string) => void; dialogs?: HostOptions['dialogs']; ws?: string } = {},
): TestHost {
  const ws = opts.ws ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ae-host-'));
  opts.prepare?.(ws);
  const host = createHost({
    mode: opts.dialogs ? 'electron' : 'serve',
    version: 'test',
    trainer: createTestSupervisor(),
    workspaceDir: ws,
    dialogs: opts.dialogs,
  });
  const events: Array<[EventName, unknown]> = [];
  host.subscribe((name, payload) => events.push([name, payload]));
  return {
    host,
    ws,
    events,
    async ok(name, payload) {
      const r: Envelope = await host.dispatch(name, payload);
      expect(r.ok, JSON.stringify(r)).toBe(true);
      return (r as { ok: true; result: never }).result;
    },
    async refused(name, payload) {
      const r: Envelope = await host.dispatch(name, payload);
      expect(r.ok, JSON.stringify(r)).toBe(false);
      return (r as { ok: false; error: { code: string; message: string } }).error;
    },
    async dispose() {
      await host.dispose();
      if (!opts.ws) fs.rmSync(ws, { recursive: true, force: true }); // a folder given by the test is the test's
    },
  };
}

/** 100 pictures of 12×12 grey: a bright square in one of four corners, labelled by the corner. */
export async function cornersDataset(ws: string): Promise<string> {
  const S = 12;
  const count = 100;
  const images = new Uint8Array(count * S * S);
  const labels = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const c = k % 4;
    labels[k] = c;
    const [y0, x0] = [c < 2 ? 1 : 6, c % 2 ? 6 : 1];
    for (let y = 0; y < 5; y++)
      for (let x = 0; x < 5; x++) images[k * S * S + (y0 + y) * S + x0 + x] = 150 + ((k * 7 + x * 13 + y * 5) % 100);
  }
  const m = await writeDataset(
    ws,
    'Corners',
    { images, labels, labelNames: ['top left', 'top right', 'bottom left', 'bottom right'], shape: [S, S, 1], count },
    { kind: 'import', paths: ['/corners'] },
  );
  return m.id;
}

/** A one-epoch dense autoencoder on the corners dataset. */
export const tinyConfig = {
  kind: 'dense',
  inputShape: [12, 12, 1],
  latentDim: 2,
  hidden: [16],
  epochs: 1,
  batchSize: 20,
} as const;

/** Resolves with the run's summary once its status is one of `statuses`. */
export async function waitForRun(
  t: TestHost,
  runId: string,
  statuses: RunSummary['status'][],
  timeoutMs = 90_000,
): Promise<RunSummary> {
  const started = Date.now();
  for (;;) {
    const run = (await t.ok('runs:list', {})).find((r) => r.runId === runId);
    if (run && statuses.includes(run.status)) return run;
    if (Date.now() - started > timeoutMs) throw new Error(`run ${runId} is still ${run?.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Trains the tiny run on the corners dataset through the host; returns its id once completed. */
export async function trainedRun(t: TestHost): Promise<string> {
  const dataset = await cornersDataset(t.ws);
  const { runId } = await t.ok('runs:start', { config: tinyConfig, dataset: { id: dataset } });
  const run = await waitForRun(t, runId, ['completed', 'failed', 'stopped']);
  expect(run.status, run.message).toBe('completed');
  return runId;
}

/**
 * Writes runs/<runId>/run.json as an earlier session left it (`status` as given, no model, no
 * checkpoint); call it from `prepare` so the host reads it when it opens the workspace.
 */
export function storedRun(
  ws: string,
  runId: string,
  status: RunSummary['status'],
  extra: Partial<RunSummary> = {},
): void {
  const dir = path.join(ws, 'runs', runId);
  fs.mkdirSync(dir, { recursive: true });
  const run = {
    runId,
    status,
    config: { ...tinyConfig, inputShape: [28, 28, 1] },
    dataset: { builtin: 'mnist', count: 1000 },
    epochsDone: 0,
    history: { loss: [], valLoss: [] },
    startedAt: 1,
    ...extra,
  };
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(run));
}
