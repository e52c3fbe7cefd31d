// The runs service follows runs other processes write (host/runs/watch.ts): a run folder locked by
// another process is listed as training elsewhere, its new epochs in run.json are relayed as epoch
// events and its latest batch (progress.json) as a batch event, the calls that would change it are refused naming the owner, and when its lock goes it is
// an ordinary run. The other process is played by files written here as the real one writes them
// (writers.rel.ts runs real CLIs); the trainer is never asked for anything.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunsService } from '../../../../src-main/host/runs';
import type { EventName, RunEventPayload, RunStatusPayload, RunSummary } from '../../../../src-main/contract';
import { ModelConfig } from '../../../../src-main/contract';
import type { TrainerSupervisor } from '../../../../src-main/trainer/supervisor';

const runId = 'run-20261206-140200-ab12';

function setup() {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-watch-'));
  const dir = path.join(ws, 'runs', runId);
  const trainer = Object.assign(new EventEmitter(), {
    request: async (method: string) => {
      throw new Error(`the trainer was asked for ${method}`);
    },
  });
  const emitted: Array<[EventName, unknown]> = [];
  const writeRun = (losses: number[], status: RunSummary['status'] = 'running') => {
    const run: RunSummary = {
      runId,
      status,
      config: ModelConfig.parse({ kind: 'dense', epochs: 5, inputShape: [28, 28, 1] }),
      dataset: { id: 'ds-1' },
      epochsDone: losses.length,
      history: { loss: losses, valLoss: losses.map((l) => l + 0.01) },
      startedAt: Date.now(),
      samplesPerSec: 1000,
      elapsedSec: losses.length * 2,
    };
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(run));
    const t = Date.now() / 1000 + losses.length; // a new mtime each time, as a real write gives
    fs.utimesSync(path.join(dir, 'run.json'), t, t);
  };
  const lock = () => {
    fs.mkdirSync(path.join(dir, 'owner.lock'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'owner.json'),
      JSON.stringify({
        pid: 4121,
        host: 'another-host',
        since: Date.now(),
        app: 'cli',
        what: 'training',
        dataset: 'ds-1',
      }),
    );
  };
  const unlock = () => {
    fs.rmSync(path.join(dir, 'owner.json'));
    fs.rmdirSync(path.join(dir, 'owner.lock'));
  };
  return {
    ws,
    dir,
    trainer,
    emitted,
    writeRun,
    lock,
    unlock,
    make: () =>
      createRunsService({
        trainer: trainer as unknown as TrainerSupervisor,
        workspaceDir: ws,
        emit: (n, p) => void emitted.push([n, p]),
        watchMs: 60_000,
      }),
  };
}

const statuses = (e: Array<[EventName, unknown]>) =>
  e.filter(([n]) => n === 'runs:status').map(([, p]) => p as RunStatusPayload);
const epochs = (e: Array<[EventName, unknown]>) =>
  e.flatMap(([n, p]) =>
    n === 'runs:event' && (p as RunEventPayload).event.type === 'epoch'
      ? [(p as RunEventPayload).event as Extract<RunEventPayload['event'], { type: 'epoch' }>]
      : [],
  );

describe('runs another process trains', () => {
  it('are listed as training elsewhere, relayed live, refused, and ordinary once their lock goes', async () => {
    const s = setup();
    s.writeRun([0.5, 0.4]);
    s.lock();
    const service = s.make();
    const listed = (await service.handlers['runs:list']({})).find((r) => r.runId === runId) as RunSummary;
    expect(listed).toMatchObject({ status: 'training-elsewhere', epochsDone: 2, hasModel: false });
    expect(listed.message).toMatch(/^Training in another studio — process 4121 on another-host since \d\d:\d\d\./);
    expect(listed.resume).toBeUndefined();

    for (const call of ['runs:resume', 'runs:stop'] as const)
      await expect(service.handlers[call]({ runId })).rejects.toThrow(
        /is training in another studio — process 4121 on another-host/,
      );
    await expect(service.handlers['runs:update']({ runId, name: 'mine' })).rejects.toThrow(/process 4121/);
    expect(JSON.parse(fs.readFileSync(path.join(s.dir, 'run.json'), 'utf8')).name).toBeUndefined(); // nothing written

    // the owner finishes epoch 3: the curves grow here
    s.writeRun([0.5, 0.4, 0.3]);
    service.watchNow();
    expect(epochs(s.emitted)).toEqual([
      expect.objectContaining({
        epoch: 3,
        epochs: 5,
        loss: 0.3,
        valLoss: 0.31,
        samplesPerSec: 1000,
        elapsedSec: 6,
        etaSec: 4,
      }),
    ]);
    expect(statuses(s.emitted).at(-1)).toMatchObject({ status: 'training-elsewhere', epochsDone: 3 });
    service.watchNow(); // nothing changed: nothing sent
    expect(epochs(s.emitted)).toHaveLength(1);
    // a batch of epoch 4 (progress.json, written by the owner once a second): the progress bar moves here
    const batch = { type: 'batch', epoch: 4, batch: 7, batches: 20, loss: 0.28, samplesPerSec: 990, etaSec: 5 };
    fs.writeFileSync(path.join(s.dir, 'progress.json'), JSON.stringify(batch));
    service.watchNow();
    expect(
      s.emitted
        .filter(([n, p]) => n === 'runs:event' && (p as RunEventPayload).event.type === 'batch')
        .map(([, p]) => (p as RunEventPayload).event),
    ).toEqual([batch]);

    // its owner stops it: an ordinary stopped run, resumable here
    s.writeRun([0.5, 0.4, 0.3, 0.25], 'stopped');
    s.unlock();
    service.watchNow();
    expect(statuses(s.emitted).at(-1)).toMatchObject({ status: 'stopped', epochsDone: 4 });
    expect((await service.handlers['runs:list']({})).find((r) => r.runId === runId)).toMatchObject({
      status: 'stopped',
      epochsDone: 4,
    });
    service.dispose();
  });

  it('a run another process starts appears; a run whose owner left it running with no lock is interrupted, never training elsewhere', async () => {
    const s = setup();
    const service = s.make();
    expect(await service.handlers['runs:list']({})).toEqual([]);
    s.lock(); // another process made the folder and holds it
    service.watchNow();
    expect(await service.handlers['runs:list']({})).toEqual([]); // locked, no run.json yet: being made
    s.writeRun([0.5]);
    service.watchNow();
    expect(statuses(s.emitted)).toEqual([
      expect.objectContaining({ runId, status: 'training-elsewhere', epochsDone: 1 }),
    ]);
    s.unlock(); // the owner was killed: run.json still says running
    service.watchNow();
    expect(statuses(s.emitted).at(-1)).toMatchObject({
      status: 'stopped',
      message: expect.stringMatching(/^Interrupted/),
    });
    service.dispose();
  });
});
