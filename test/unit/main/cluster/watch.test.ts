// `ae-studio job watch` and what it reads (src-main/cluster/watch.ts): a real job folder written by
// exportJob, with what train.py writes into out/ written here by hand at each stage — nothing yet,
// a start, epochs (one torn line being written), a failure, the end — and the CLI's lines, exit
// codes and usage errors. (test/integration/cluster-parity.test.ts watches a real launch.sh.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../../../src-main/engine';
import { exportJob } from '../../../../src-main/cluster/export';
import { describeProgress, formatDuration, readJobProgress, sparkline } from '../../../../src-main/cluster/watch';
import { main as cli } from '../../../../src-main/cli/main';
import { jobHandlers, type JobsDeps } from '../../../../src-main/host/jobs';
import { CallError } from '../../../../src-main/host/dispatch';

let work: string;
let job: string;
const FORMAT = 'autoencoder-studio/torch-job';
const progress = (o: Record<string, unknown>) =>
  fs.writeFileSync(
    path.join(job, 'out', 'progress.json'),
    JSON.stringify({
      format: FORMAT,
      status: 'training',
      startEpoch: 0,
      targetEpoch: 4,
      worldSize: 2,
      restart: 0,
      time: new Date().toISOString(),
      ...o,
    }),
  );
const record = (epoch: number, loss: number, t: number) =>
  JSON.stringify({
    epoch,
    train_loss: loss,
    val_loss: loss * 1.1,
    samples_per_sec: 1500,
    world_size: 2,
    seconds: 8,
    restart: 0,
    time: new Date(t).toISOString(),
  }) + '\n';

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-job-watch-'));
  job = path.join(work, 'job');
  await exportJob({
    config: { kind: 'dense', inputShape: [28, 28, 1], latentDim: 4, epochs: 4, batchSize: 16 },
    dataset: loadMnist(64, { seed: 1 }),
    datasetSpec: null,
    datasetName: 'd',
    name: 'w',
    out: job,
  });
}, 60_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const run = async (args: string[]) => {
  const lines: string[] = [];
  const errs: string[] = [];
  const code = await cli(
    ['job', 'watch', ...args],
    (s) => lines.push(s),
    (s) => errs.push(s),
  );
  return { code, out: lines.join('\n'), err: errs.join('\n') };
};

describe('job watch', () => {
  it('follows a job from not started to done: epoch, curve, pace and ETA; a torn line waits', async () => {
    expect(readJobProgress(job)).toMatchObject({ status: 'waiting', epochsDone: 0, targetEpoch: 4, etaSec: null });
    expect(describeProgress(readJobProgress(job))).toMatch(/not started yet/);
    fs.mkdirSync(path.join(job, 'out'));
    progress({ epochsDone: 0 });
    expect(readJobProgress(job)).toMatchObject({ status: 'training', epochsDone: 0, etaSec: null });
    expect(describeProgress(readJobProgress(job))).toBe('epoch 0/4, ETA after the first epoch');

    const t0 = Date.now() - 30_000;
    const metrics = path.join(job, 'out', 'metrics.jsonl');
    fs.writeFileSync(
      metrics,
      record(1, 0.08, t0) + record(2, 0.05, t0 + 10_000) + record(3, 0.04, t0 + 20_000).slice(0, 30),
    ); // epoch 3 half written
    progress({ epochsDone: 2 });
    const p = readJobProgress(job);
    expect(p).toMatchObject({ status: 'training', epochsDone: 2, targetEpoch: 4 });
    expect(p.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(p.secondsPerEpoch).toBeCloseTo(10, 6); // wall clock between epochs, not the 8 s of training alone
    expect(p.etaSec).toBeCloseTo(20, 6);
    expect(describeProgress(p)).toBe(
      `epoch 2/4, loss 0.05000 (0.08000 at epoch 1, best 0.05000) ${sparkline([0.08, 0.05])}, validation 0.05500, 1,500 samples/s on 2 workers, ETA 20 s`,
    );
    const once = await run([job, '--once']);
    expect(once.code).toBe(0);
    expect(once.out).toMatch(/^epoch 2\/4, loss 0\.05000/);

    fs.writeFileSync(
      metrics,
      record(1, 0.08, t0) + record(2, 0.05, t0 + 10_000) + record(3, 0.04, t0 + 20_000) + record(4, 0.035, t0 + 30_000),
    );
    progress({ epochsDone: 4, status: 'done' });
    fs.writeFileSync(
      path.join(job, 'out', 'done.json'),
      JSON.stringify({ format: FORMAT, epochsDone: 4, reason: 'done', message: 'Finished 4 epochs.' }),
    );
    expect(readJobProgress(job)).toMatchObject({
      status: 'done',
      epochsDone: 4,
      etaSec: 0,
      message: 'Finished 4 epochs.',
    });
    const end = await run([job, '--interval', '0.05']);
    expect(end.code).toBe(0);
    expect(end.out).toMatch(/epoch 4\/4, loss 0\.03500 .*finished/);
    expect(end.out).toMatch(
      new RegExp(
        `Bring it back with: ae-studio job import ${job.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --workspace DIR`,
      ),
    );
    const json = await run([job, '--json']);
    expect(JSON.parse(json.out)).toMatchObject({
      status: 'done',
      epochsDone: 4,
      targetEpoch: 4,
      loss: 0.035,
      etaSec: 0,
    });
  });

  it("the host's jobs:progress answers the same, and refuses what is not a job folder in plain words", async () => {
    const h = jobHandlers({ workspaceDir: work } as unknown as JobsDeps)['jobs:progress'];
    const r = await h({ path: job });
    expect(r).toMatchObject({
      name: 'w',
      status: 'done',
      epochsDone: 4,
      targetEpoch: 4,
      loss: [0.08, 0.05, 0.04, 0.035],
      samplesPerSec: 1500,
      workers: 2,
      etaSec: 0,
    });
    expect(r.line).toBe(describeProgress(readJobProgress(job)));
    await expect(Promise.resolve().then(() => h({ path: work }))).rejects.toThrow(CallError);
    await expect(Promise.resolve().then(() => h({ path: work }))).rejects.toThrow(/has no job\.json/);
  });

  it('a failed job exits 1 with its message; a job that does not finish in --timeout exits 3', async () => {
    progress({ epochsDone: 4, status: 'failed', targetEpoch: 6, message: 'the loss became nan in epoch 5' });
    fs.rmSync(path.join(job, 'out', 'done.json'));
    const failed = await run([job]);
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(/failed: the loss became nan in epoch 5/);
    progress({ epochsDone: 4, targetEpoch: 6 });
    const started = Date.now();
    const slow = await run([job, '--interval', '0.1', '--timeout', '0.3']);
    expect(slow.code).toBe(3);
    expect(slow.out).toMatch(/Still training after 0 s of watching/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses what is not a job, a damaged file, and bad options, in plain words', async () => {
    expect((await run([work])).err).toMatch(/has no job\.json: it is not a cluster job folder/);
    fs.writeFileSync(path.join(job, 'out', 'progress.json'), '{"format": "something else"}');
    const bad = await run([job]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/progress\.json \(out\/progress\.json\) is not what the studio expects/);
    expect((await run([job, '--interval', 'soon'])).code).toBe(2);
    expect((await run([job, '--import'])).err).toMatch(/--import needs --workspace DIR/);
    expect((await run([])).code).toBe(2);
    expect(formatDuration(3725)).toBe('1 h 02 min');
    expect(formatDuration(200)).toBe('3 min 20 s');
  });
});
