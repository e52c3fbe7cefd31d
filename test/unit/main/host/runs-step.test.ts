// The host's part of the training step: the step a run reports is recorded in its run.json, and a
// fallback that was not asked for reaches the user as a warning notice. A real trainer falls back
// only when a tfjs-node upgrade or a new layer breaks the graph step (training-step.test.ts guards
// that every supported config does not), so here the trainer's side of the protocol is played by an
// emitter whose events are checked against the protocol's own schemas first. The runs service is
// reached through createHost and dispatch only, as the client reaches it.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHost } from '../../../../src-main/host';
import { trainerEvents, type TrainerEventArgs } from '../../../../src-main/trainer/protocol';
import type { TrainerSupervisor } from '../../../../src-main/trainer/supervisor';
import type { EventName, RunSummary } from '../../../../src-main/contract';

function setup() {
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-step-notice-'));
  const trainer = Object.assign(new EventEmitter(), {
    requests: [] as string[],
    request: async (method: string) => {
      trainer.requests.push(method);
      return { accepted: true };
    },
    stop: async () => undefined,
  });
  const host = createHost({
    mode: 'serve',
    version: 'test',
    trainer: trainer as unknown as TrainerSupervisor,
    workspaceDir,
  });
  const emitted: Array<[EventName, unknown]> = [];
  host.subscribe((name, payload) => void emitted.push([name, payload]));
  /** The trainer sends an event, as the supervisor relays it once it passed the protocol's schema. */
  const send = (...[name, payload]: TrainerEventArgs) =>
    trainer.emit('trainer-event', name, trainerEvents[name].parse(payload));
  const call = async <T>(name: string, payload: unknown): Promise<T> => {
    const r = await host.dispatch(name, payload);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.result as T;
  };
  /** run.json as saved once its writes landed. */
  const saved = async (runId: string, has: (run: RunSummary) => boolean) => {
    const file = path.join(workspaceDir, 'runs', runId, 'run.json');
    for (let i = 0; i < 200; i++) {
      try {
        const run = JSON.parse(fs.readFileSync(file, 'utf8')) as RunSummary;
        if (has(run)) return run;
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`run.json of ${runId} never matched`);
  };
  return { trainer, host, emitted, send, call, saved };
}

/** A run start as the client sends it. */
const startRequest = {
  config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 8, epochs: 1 },
  dataset: { builtin: 'mnist', count: 1000 },
};
const notices = (emitted: Array<[EventName, unknown]>) =>
  emitted.filter(([n]) => n === 'app:notice').map(([, p]) => p as { level: string; message: string });

describe('the training step in the host', () => {
  it('records the step in run.json and says nothing when the run gets the graph step', async () => {
    const { trainer, host, emitted, send, call, saved } = setup();
    const { runId } = await call<{ runId: string }>('runs:start', startRequest);
    expect(trainer.requests).toEqual(['runStart']);
    send('run-event', { runId, event: { type: 'step', step: 'graph', reason: null, fallback: false } });
    expect((await saved(runId, (r) => !!r.step)).step).toEqual({ step: 'graph', reason: null, fallback: false });
    expect(notices(emitted)).toEqual([]);
    await host.dispose();
  });

  it('turns a fallback that was not asked for into a warning notice naming the run, the slower step and why', async () => {
    const { host, emitted, send, call, saved } = setup();
    const { runId } = await call<{ runId: string }>('runs:start', startRequest);
    send('run-event', {
      runId,
      event: {
        type: 'step',
        step: 'kernels',
        reason: 'the graph could not be recorded (GraphMismatch)',
        fallback: true,
      },
    });
    expect(notices(emitted)).toEqual([
      expect.objectContaining({
        level: 'warning',
        message: expect.stringMatching(
          new RegExp(`^Run ${runId} trains with the training step kernel by kernel .*slower.*GraphMismatch`),
        ),
      }),
    ]);
    expect((await saved(runId, (r) => !!r.step)).step).toMatchObject({ step: 'kernels', fallback: true });
    expect((await call<RunSummary[]>('runs:list', {})).find((r) => r.runId === runId)?.step).toMatchObject({
      step: 'kernels',
      fallback: true,
    });
    // tfjs's own step is named as the much slower one
    send('run-event', {
      runId,
      event: { type: 'step', step: 'tfjs', reason: 'a layer the fast step does not know', fallback: true },
    });
    expect(notices(emitted).at(-1)?.message).toMatch(
      /tfjs's own, much slower training step: a layer the fast step does not know\.$/,
    );
    await host.dispose();
  });
});
