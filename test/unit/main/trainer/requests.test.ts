// The trainer process and its supervisor (trainer/entry.ts, supervisor.ts), on the REAL process:
// the trainer checks every request's params against the protocol and answers a bad one, an unknown
// method and a missing file with an error of the right kind (which host/dispatch.ts maps to the
// client's codes) and keeps running; a request it does not answer in time is a timeout; a stopped
// trainer answers nothing until it is started again. The whole process life (crash, restart, run
// events) is in test/integration/trainer-process.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methods, trainerEvents } from '../../../../src-main/trainer/protocol';
import { TrainerError, type TrainerSupervisor } from '../../../../src-main/trainer/supervisor';
import { createTestSupervisor } from '../../../helpers/trainer';

let trainer: TrainerSupervisor;
beforeAll(async () => {
  trainer = createTestSupervisor();
  await trainer.start();
});
afterAll(async () => {
  await trainer.stop();
});
const failure = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TrainerError);
  return e as TrainerError;
};

describe('requests to the trainer', () => {
  it('answers a request, and refuses bad params, an unknown method and a missing file by kind, running on', async () => {
    const { pid } = await trainer.request('ping', { nonce: 'a' });
    const bad = await failure(trainer.request('ping', { nonce: 42 } as never));
    expect(bad.code).toBe('failed');
    expect(bad.message).toMatch(/nonce/);
    const unknown = await failure(trainer.request('teleport' as never, {} as never));
    expect(unknown).toMatchObject({ code: 'failed', message: "unknown method 'teleport'" });
    const missing = await failure(
      trainer.request('noisePreview', {
        dataset: { id: 'gone-000000' },
        noise: { type: 'gaussian', level: 0.1 },
        count: 1,
        seed: 1,
        workspaceDir: '/nonexistent-ae-workspace',
      }),
    );
    expect(missing.code).toBe('not_found');
    expect(await trainer.request('ping', { nonce: 'b' })).toMatchObject({ nonce: 'b', pid }); // the same process, still running
  });

  it('survives a malformed message, saying so', async () => {
    const said: string[] = [];
    const listen = (m: string) => void said.push(m);
    trainer.on('protocol-error', listen);
    const { pid } = await trainer.request('ping', { nonce: 'e' });
    trainer.sendRaw({ type: 'request', id: 'not a number', method: 'ping' });
    trainer.sendRaw('junk');
    expect(await trainer.request('ping', { nonce: 'f' })).toMatchObject({ nonce: 'f', pid });
    trainer.off('protocol-error', listen);
    expect(said.length).toBeGreaterThanOrEqual(2);
    expect(said[0]).toMatch(/^malformed message ignored: /);
  });

  it('times out a request it does not answer in time; a stop fails what is pending, and the next request starts a fresh trainer', async () => {
    const options = {
      size: 8,
      mode: 'grayscale',
      fit: 'stretch',
      validationSplit: 0.1,
      seed: 1,
      background: 'black',
    } as const;
    const slow = await failure(
      trainer.request('datasetPreviewImport', { paths: ['/nonexistent-ae-pictures'], options, limit: 4 }, 1),
    );
    expect(slow).toMatchObject({
      code: 'timeout',
      message: "The trainer did not answer 'datasetPreviewImport' within 0 s.",
    });

    const { pid } = await trainer.request('ping', { nonce: 'g' });
    const pending = failure(
      trainer.request('batchRates', { config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 8, batchSize: 32 } }),
    );
    await new Promise((r) => setTimeout(r, 50)); // the request is on its way
    await trainer.stop(0); // no grace: killed before the measurement can answer
    expect(await pending).toMatchObject({ code: 'trainer_unavailable', message: 'The trainer was stopped.' });
    expect(trainer.state.state).toBe('stopped');
    const fresh = await trainer.request('ping', { nonce: 'h' });
    expect(fresh.nonce).toBe('h');
    expect(fresh.pid).not.toBe(pid);
  });

  it('has strict params for every method and a schema for every event', () => {
    for (const [name, m] of Object.entries(methods))
      expect(m.params.safeParse({ surplus: 1 }).success, name).toBe(false);
    expect(Object.keys(trainerEvents).sort()).toEqual(['import-done', 'import-progress', 'run-end', 'run-event']);
    expect(
      trainerEvents['run-end'].safeParse({
        runId: 'r',
        result: { status: 'exploded', epochsDone: 0, bestValLoss: null, history: { loss: [], valLoss: [] } },
      }).success,
    ).toBe(false);
  });
});
