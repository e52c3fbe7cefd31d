// The host's part of the training step: the step a run reports is recorded in its run.json, and a
// fallback that was not asked for reaches the user as a warning notice. A real trainer falls back
// only when a tfjs-node upgrade or a new layer breaks the graph step (training-step.test.ts guards
// that every supported config does not), so here the trainer's side of the protocol is played by an
// emitter whose events are checked against the protocol's own schemas first.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunsService } from '../../../../src-main/host/runs';
import { trainerEvents, type TrainerEventArgs } from '../../../../src-main/trainer/protocol';
import type { TrainerSupervisor } from '../../../../src-main/trainer/supervisor';
import { calls, type EventName } from '../../../../src-main/contract';

function setup() {
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-step-notice-'));
  const trainer = Object.assign(new EventEmitter(), {
    requests: [] as string[],
    request: async (method: string) => {
      trainer.requests.push(method);
      return { accepted: true };
    },
  });
  const emitted: Array<[EventName, unknown]> = [];
  const service = createRunsService({ trainer: trainer as unknown as TrainerSupervisor, workspaceDir, emit: (name, payload) => void emitted.push([name, payload]) });
  /** The trainer sends an event, as the supervisor relays it once it passed the protocol's schema. */
  const send = (...[name, payload]: TrainerEventArgs) => trainer.emit('trainer-event', name, trainerEvents[name].parse(payload));
  return { workspaceDir, trainer, service, emitted, send };
}

/** A run start as dispatch hands it to the handler: the request parsed with its schema (config defaults filled in). */
const startRequest = () => calls['runs:start'].req.parse({ config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 8, epochs: 1 }, dataset: { builtin: 'mnist', count: 1000 } });
const notices = (emitted: Array<[EventName, unknown]>) => emitted.filter(([n]) => n === 'app:notice').map(([, p]) => p as { level: string; message: string });

describe('the training step in the host', () => {
  it('records the step in run.json and says nothing when the run gets the graph step', async () => {
    const { workspaceDir, trainer, service, emitted, send } = setup();
    const { runId } = await service.handlers['runs:start'](startRequest());
    expect(trainer.requests).toEqual(['runStart']);
    send('run-event', { runId, event: { type: 'step', step: 'graph', reason: null, fallback: false } });
    await service.flush();
    const saved = JSON.parse(fs.readFileSync(path.join(workspaceDir, 'runs', runId, 'run.json'), 'utf8'));
    expect(saved.step).toEqual({ step: 'graph', reason: null, fallback: false });
    expect(notices(emitted)).toEqual([]);
    service.dispose();
  });

  it('turns a fallback that was not asked for into a warning notice naming the run, the slower step and why', async () => {
    const { workspaceDir, service, emitted, send } = setup();
    const { runId } = await service.handlers['runs:start'](startRequest());
    send('run-event', { runId, event: { type: 'step', step: 'kernels', reason: 'the graph could not be recorded (GraphMismatch)', fallback: true } });
    await service.flush();
    expect(notices(emitted)).toEqual([
      expect.objectContaining({ level: 'warning', message: expect.stringMatching(new RegExp(`^Run ${runId} trains with the training step kernel by kernel .*slower.*GraphMismatch`)) }),
    ]);
    const saved = JSON.parse(fs.readFileSync(path.join(workspaceDir, 'runs', runId, 'run.json'), 'utf8'));
    expect(saved.step).toMatchObject({ step: 'kernels', fallback: true });
    expect((await service.handlers['runs:list']({})).find((r) => r.runId === runId)?.step).toMatchObject({ step: 'kernels', fallback: true });
    // tfjs's own step is named as the much slower one
    send('run-event', { runId, event: { type: 'step', step: 'tfjs', reason: 'a layer the fast step does not know', fallback: true } });
    expect(notices(emitted).at(-1)?.message).toMatch(/tfjs's own, much slower training step: a layer the fast step does not know\.$/);
    service.dispose();
  });
});
