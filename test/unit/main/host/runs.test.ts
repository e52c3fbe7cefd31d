// host/runs.ts (`runs:*`) through createHost and dispatch only — its public behaviour, whatever its
// inner layout — on real workspace folders and the REAL trainer. Runs of an earlier session come
// back from their run.json (one that was training or queued as stopped, its epochs from the last
// checkpoint; an unreadable one as damaged, its folder untouched); refusals are in plain words;
// names and notes are saved; with one run at a time a second run queues, can be cancelled, and a
// stopped run resumes from its checkpoint; a finished run's summary and preview survive a restart.
// (runs-step.test.ts covers how the training step a run reports reaches the user.)
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../../../src-main/contract';
import { cornersDataset, hostInTemp, storedRun, tinyConfig, waitForRun, type TestHost } from './helpers';

let t: TestHost | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});
const ids = {
  interrupted: 'run-20261201-000000-0001',
  checkpointed: 'run-20261201-000000-0002',
  queued: 'run-20261201-000000-0003',
  completed: 'run-20261201-000000-0004',
  unreadable: 'run-20261201-000000-0005',
  other: 'run-20261201-000000-0006',
  missing: 'run-20261201-000000-0007',
};
const readRun = (ws: string, id: string) => JSON.parse(fs.readFileSync(path.join(ws, 'runs', id, 'run.json'), 'utf8'));

function earlierSession(ws: string) {
  storedRun(ws, ids.interrupted, 'running', { startedAt: 1 });
  storedRun(ws, ids.checkpointed, 'running', { startedAt: 2, epochsDone: 1, history: { loss: [0.5], valLoss: [0.6] } });
  const ckpt = path.join(ws, 'runs', ids.checkpointed, 'checkpoint');
  fs.mkdirSync(ckpt, { recursive: true });
  fs.writeFileSync(
    path.join(ckpt, 'state.json'),
    JSON.stringify({
      epochsDone: 3,
      history: { loss: [0.5, 0.4, 0.3], valLoss: [0.6, 0.5, 0.4] },
      bestValLoss: 0.4,
      sinceBest: 0,
      step: 30,
    }),
  );
  storedRun(ws, ids.queued, 'queued', { startedAt: 3 });
  storedRun(ws, ids.completed, 'completed', { startedAt: 4, epochsDone: 1, history: { loss: [0.2], valLoss: [0.3] } });
  fs.mkdirSync(path.join(ws, 'runs', ids.unreadable));
  fs.writeFileSync(path.join(ws, 'runs', ids.unreadable, 'run.json'), '{"runId": "run-');
  storedRun(ws, ids.other, 'completed');
  fs.writeFileSync(
    path.join(ws, 'runs', ids.other, 'run.json'),
    JSON.stringify({ ...readRun(ws, ids.other), runId: ids.completed }),
  );
  fs.mkdirSync(path.join(ws, 'runs', ids.missing));
  fs.writeFileSync(path.join(ws, 'runs', 'run.json.tmp-1'), '');
}

describe('runs of an earlier session', () => {
  it('come back from run.json: interrupted ones as stopped (epochs from the checkpoint), unreadable ones as damaged and untouched', async () => {
    t = hostInTemp({ prepare: earlierSession });
    const unreadableBefore = fs.readFileSync(path.join(t.ws, 'runs', ids.unreadable, 'run.json'), 'utf8');
    const list = await t.ok('runs:list', {});
    const by = Object.fromEntries(list.map((r) => [r.runId, r]));
    expect(Object.keys(by).sort()).toEqual(Object.values(ids).sort());
    // newest first (a damaged run dates from its folder: it comes first here)
    expect(list.filter((r) => r.status !== 'damaged').map((r) => r.runId)).toEqual([
      ids.completed,
      ids.queued,
      ids.checkpointed,
      ids.interrupted,
    ]);
    expect(by[ids.interrupted]).toMatchObject({
      status: 'stopped',
      resume: 'start',
      hasModel: false,
      message: 'Interrupted: the studio stopped while this run was training. Resume continues after epoch 0.',
    });
    expect(by[ids.checkpointed]).toMatchObject({
      status: 'stopped',
      epochsDone: 3,
      resume: 'checkpoint',
      history: { loss: [0.5, 0.4, 0.3] },
      message: expect.stringMatching(/after epoch 3\.$/),
    });
    expect(by[ids.queued]).toMatchObject({
      status: 'stopped',
      message: 'Interrupted: the studio stopped while this run was waiting in the queue. Resume starts it.',
    });
    expect(by[ids.completed]).toMatchObject({ status: 'completed', epochsDone: 1, hasModel: false });
    expect(by[ids.completed].resume).toBeUndefined();
    expect(by[ids.unreadable]).toMatchObject({
      status: 'damaged',
      message: expect.stringMatching(
        new RegExp(`^run\\.json could not be read: .+\\. The folder runs/${ids.unreadable} was left untouched\\.$`),
      ),
    });
    expect(by[ids.other].message).toMatch(/it does not describe this run \(it names run 'run-20261201-000000-0004'\)/);
    expect(by[ids.missing].message).toMatch(/^run\.json could not be read: it is missing\./);
    expect(fs.readFileSync(path.join(t.ws, 'runs', ids.unreadable, 'run.json'), 'utf8')).toBe(unreadableBefore);
    expect(fs.existsSync(path.join(t.ws, 'runs', ids.missing, 'run.json'))).toBe(false);
  });

  it('refuses what cannot be done in plain words, and saves names and notes', async () => {
    t = hostInTemp({ prepare: earlierSession });
    const unknown = 'run-20990101-000000-ffff';
    for (const name of ['runs:stop', 'runs:resume', 'runs:preview', 'runs:batchLoss'] as const)
      expect(await t.refused(name, { runId: unknown }), name).toEqual({
        code: 'not_found',
        message: `There is no run '${unknown}'.`,
      });
    expect(await t.refused('runs:update', { runId: unknown, name: 'x' })).toEqual({
      code: 'not_found',
      message: `There is no run '${unknown}'.`,
    });
    expect(await t.refused('runs:resume', { runId: ids.completed })).toEqual({
      code: 'conflict',
      message: `Run '${ids.completed}' has finished; start a new run to train more.`,
    });
    expect((await t.refused('runs:resume', { runId: ids.unreadable })).message).toMatch(
      new RegExp(`^Run '${ids.unreadable}' cannot be resumed: run\\.json could not be read`),
    );
    expect((await t.refused('runs:update', { runId: ids.unreadable, name: 'x' })).message).toMatch(
      new RegExp(`^Run '${ids.unreadable}' cannot be changed: `),
    );
    expect(await t.ok('runs:stop', { runId: ids.completed })).toEqual({ stopping: false });
    expect(await t.ok('runs:preview', { runId: ids.completed })).toBeNull();
    expect(await t.ok('runs:batchLoss', { runId: ids.completed })).toEqual({ x: [], y: [] });
    const bad = await t.refused('runs:start', {
      config: { ...tinyConfig, latentDim: 0 },
      dataset: { builtin: 'mnist', count: 1000 },
    });
    expect(bad.code).toBe('invalid_payload');
    expect(bad.message).toMatch(/config\.latentDim/);

    expect(
      await t.ok('runs:update', { runId: ids.completed, name: 'Corners, 2-d code', note: 'first try' }),
    ).toMatchObject({ name: 'Corners, 2-d code', note: 'first try' });
    expect(await t.ok('runs:update', { runId: ids.completed, note: '' })).toMatchObject({ name: 'Corners, 2-d code' });
    await t.host.dispose(); // the last run.json writes land
    const saved = readRun(t.ws, ids.completed);
    expect(saved.name).toBe('Corners, 2-d code');
    expect(saved.note).toBeUndefined();
  });
});

describe('training runs', () => {
  it('queues a second run when one trains at a time, cancels it from the queue, and resumes a stopped run from its checkpoint', async () => {
    t = hostInTemp();
    const dataset = { id: await cornersDataset(t.ws) };
    await t.ok('settings:set', { maxConcurrentRuns: 1 });
    const a = (await t.ok('runs:start', { config: { ...tinyConfig, epochs: 500 }, dataset, name: 'long' })).runId;
    const b = (await t.ok('runs:start', { config: tinyConfig, dataset })).runId;
    const list = await t.ok('runs:list', {});
    expect(list.find((r) => r.runId === a)).toMatchObject({ status: 'running', name: 'long' });
    expect(list.find((r) => r.runId === b)).toMatchObject({
      status: 'queued',
      message: 'Waiting for a free training slot (one run trains at once; 1 waiting, this one included).',
    });
    expect(await t.ok('runs:stop', { runId: b })).toEqual({ stopping: true });
    expect((await t.ok('runs:list', {})).find((r) => r.runId === b)).toMatchObject({
      status: 'stopped',
      message: 'Cancelled before it started; resume starts it.',
      resume: 'start',
    });

    // a's first checkpoint, then stop it
    const started = Date.now();
    while (
      !t.events.some(
        ([n, p]) =>
          n === 'runs:event' &&
          (p as EventPayload<'runs:event'>).runId === a &&
          (p as EventPayload<'runs:event'>).event.type === 'checkpoint',
      ) &&
      Date.now() - started < 60_000
    )
      await new Promise((r) => setTimeout(r, 50));
    await t.ok('runs:stop', { runId: a });
    const stopped = await waitForRun(t, a, ['stopped', 'completed', 'failed']);
    expect(stopped).toMatchObject({ status: 'stopped', resume: 'checkpoint' });
    expect(stopped.epochsDone).toBeGreaterThan(0);
    // run.json follows through the host's write queue: on disk within moments of the status event
    const ws = t.ws;
    await expect
      .poll(() => readRun(ws, a), { timeout: 10_000 })
      .toMatchObject({ status: 'stopped', epochsDone: stopped.epochsDone });

    // resumed, it continues after its last epoch; b waits for it
    expect(await t.ok('runs:resume', { runId: a })).toEqual({ runId: a });
    expect(await t.refused('runs:resume', { runId: a })).toEqual({
      code: 'conflict',
      message: `Run '${a}' is already running.`,
    });
    await t.ok('runs:resume', { runId: b });
    expect((await t.ok('runs:list', {})).find((r) => r.runId === b)?.status).toBe('queued');
    const epochEvents = () =>
      t!.events
        .filter(
          ([n, p]) =>
            n === 'runs:event' &&
            (p as EventPayload<'runs:event'>).runId === a &&
            (p as EventPayload<'runs:event'>).event.type === 'epoch',
        )
        .map(([, p]) => (p as { event: { epoch: number } }).event.epoch);
    const seen = epochEvents().length;
    while (epochEvents().length === seen && Date.now() - started < 90_000) await new Promise((r) => setTimeout(r, 50));
    expect(epochEvents()[seen]).toBe(stopped.epochsDone + 1);
    // the batch-loss line goes on from the checkpoint: the batches of the stopped epoch that trained again are not there twice
    const bl = await t.ok('runs:batchLoss', { runId: a });
    expect(bl.x.length).toBeGreaterThan(0);
    expect(bl.x.every((x, i) => i === 0 || x > bl.x[i - 1])).toBe(true);
    expect(bl.x.at(-1)).toBeGreaterThan(stopped.epochsDone);
    await t.ok('runs:stop', { runId: a });
    // the freed slot starts b, which finishes
    expect((await waitForRun(t, b, ['completed', 'failed'])).status).toBe('completed');
  });

  it("keeps a finished run's summary and preview for the next session", async () => {
    t = hostInTemp();
    const dataset = { id: await cornersDataset(t.ws) };
    const { runId } = await t.ok('runs:start', { config: { ...tinyConfig, previewEvery: 1 }, dataset });
    const done = await waitForRun(t, runId, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', epochsDone: 1, hasModel: true });
    expect(done.history.loss).toHaveLength(1);
    const preview = await t.ok('runs:preview', { runId });
    expect(preview).toMatchObject({ type: 'preview', width: 12, height: 12, channels: 1 });
    // every batch's loss, as streamed (a short run is not thinned)
    const batches = t.events
      .filter(([n, p]) => n === 'runs:event' && (p as EventPayload<'runs:event'>).event.type === 'batch')
      .map(([, p]) => (p as { event: { epoch: number; batch: number; batches: number; loss: number } }).event);
    expect(batches.length).toBeGreaterThan(0);
    const batchLoss = { x: batches.map((b) => b.epoch - 1 + b.batch / b.batches), y: batches.map((b) => b.loss) };
    expect(await t.ok('runs:batchLoss', { runId })).toEqual(batchLoss);
    await t.host.dispose();

    const next = hostInTemp({ ws: t.ws });
    try {
      expect((await next.ok('runs:list', {})).find((r) => r.runId === runId)).toMatchObject({
        status: 'completed',
        epochsDone: 1,
        hasModel: true,
        history: { loss: done.history.loss },
      });
      expect(await next.ok('runs:preview', { runId })).toEqual(preview);
      expect(await next.ok('runs:batchLoss', { runId })).toEqual(batchLoss);
    } finally {
      await next.dispose();
    }
  });
});
