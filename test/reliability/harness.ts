// A real host over a temp workspace with the REAL trainer process, and event waits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHost, type Host } from '../../src-main/host';
import type { EventName, RunEventPayload, RunStatusPayload, RunSummary } from '../../src-main/contract';
import type { TrainerSupervisor } from '../../src-main/trainer/supervisor';
import { createTestSupervisor } from '../helpers/trainer';

export interface Harness {
  host: Host;
  trainer: TrainerSupervisor;
  workspace: string;
  events: Array<[EventName, unknown]>;
  call<T = unknown>(name: string, payload: unknown): Promise<T>;
  start(config: object, dataset?: object): Promise<string>;
  waitStatus(
    runId: string,
    status: RunStatusPayload['status'],
    after?: number,
    timeoutMs?: number,
  ): Promise<RunStatusPayload>;
  waitEvent(
    runId: string,
    pred: (e: RunEventPayload['event']) => boolean,
    timeoutMs?: number,
  ): Promise<RunEventPayload['event']>;
  runEvents(runId: string): Array<RunEventPayload['event']>;
  list(): Promise<RunSummary[]>;
  /** A new host (and trainer) over the same workspace, as after a restart. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ae-rel-${prefix}-`));
}

export function createHarness(workspace = tempDir('ws')): Harness {
  const h = {} as Harness;
  const boot = () => {
    h.trainer = createTestSupervisor();
    h.host = createHost({ mode: 'serve', version: 'test', trainer: h.trainer, workspaceDir: workspace });
    h.events = [];
    h.host.subscribe((name, payload) => h.events.push([name, payload]));
  };
  boot();
  h.workspace = workspace;
  h.call = async <T>(name: string, payload: unknown) => {
    const r = await h.host.dispatch(name, payload);
    if (!r.ok) throw new Error(`${name} failed: ${JSON.stringify(r.error)}`);
    return r.result as T;
  };
  h.start = async (config, dataset = { builtin: 'mnist', count: 1000 }) =>
    (await h.call<{ runId: string }>('runs:start', { config, dataset })).runId;
  h.runEvents = (runId) =>
    h.events
      .filter(([n, p]) => n === 'runs:event' && (p as RunEventPayload).runId === runId)
      .map(([, p]) => (p as RunEventPayload).event);
  h.waitStatus = (runId, status, after = 0, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const tick = () => {
        const hit = h.events
          .slice(after)
          .find(
            ([n, p]) =>
              n === 'runs:status' &&
              (p as RunStatusPayload).runId === runId &&
              (p as RunStatusPayload).status === status,
          );
        if (hit) return resolve(hit[1] as RunStatusPayload);
        if (Date.now() - started > timeoutMs)
          return reject(
            new Error(
              `run ${runId} never became ${status}: ${JSON.stringify(h.events.filter(([n]) => n === 'runs:status'))}`,
            ),
          );
        setTimeout(tick, 50);
      };
      tick();
    });
  h.waitEvent = (runId, pred, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const tick = () => {
        const hit = h.runEvents(runId).find(pred);
        if (hit) return resolve(hit);
        if (Date.now() - started > timeoutMs) return reject(new Error('event never came'));
        setTimeout(tick, 25);
      };
      tick();
    });
  h.list = () => h.call<RunSummary[]>('runs:list', {});
  h.restart = async () => {
    await h.host.dispose();
    boot();
  };
  h.dispose = () => h.host.dispose();
  return h;
}

/** A small conv autoencoder on 28×28 MNIST (fast on two cores). */
export const smallConv = {
  kind: 'conv',
  inputShape: [28, 28, 1],
  latentDim: 8,
  hidden: [8, 16],
  batchSize: 64,
  previewEvery: 1000,
} as const;
export const smallDense = {
  kind: 'dense',
  inputShape: [28, 28, 1],
  latentDim: 16,
  hidden: [64],
  batchSize: 100,
  previewEvery: 1000,
} as const;
