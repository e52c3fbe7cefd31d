// Faults around runs, through a real host and the REAL trainer process: a SIGKILLed trainer,
// a diverging loss, two runs at once with a third queued, and damaged run folders.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src-main/contract';
import { MAX_CONCURRENT_RUNS } from '../../src-main/host/runs';
import { createHarness, smallConv, smallDense, type Harness } from './harness';
import { tally } from './record';

let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

/** sha256 of every file under dir, by relative path. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('faults: runs', () => {
  it('a trainer SIGKILLed mid-epoch fails the run clearly; the host stays up; the checkpoint is intact and resume continues from it', async () => {
    const t = tally('fault', 'trainer SIGKILL mid-epoch, then resume');
    try {
      await t.attempt(async () => {
        h = createHarness();
        const runId = await h.start({ ...smallConv, epochs: 4 }, { builtin: 'mnist', count: 3000 });
        await h.waitEvent(runId, (e) => e.type === 'checkpoint' && e.epoch === 1);
        // mid-epoch: a batch of epoch 2 has been reported, its checkpoint not yet written
        await h.waitEvent(runId, (e) => e.type === 'batch' && e.epoch === 2);
        const ckptDir = path.join(h.workspace, 'runs', runId, 'checkpoint');
        const lastCkpt = Math.max(...h.runEvents(runId).flatMap((e) => (e.type === 'checkpoint' ? [e.epoch] : [])));
        const before = hashTree(ckptDir);
        const pid = h.trainer.pid as number;
        process.kill(pid, 'SIGKILL');
        const failed = await h.waitStatus(runId, 'failed');
        expect(failed.message).toMatch(/trainer process stopped during this run/);
        expect(failed.message).toMatch(/SIGKILL/);
        expect(failed.message).toMatch(/Resume continues from the last checkpoint \(epoch \d\)/);
        // the host and the UI's channel stay up: calls answer, the crash reached subscribers as a notice
        expect(await h.host.dispatch('app:info', {})).toMatchObject({ ok: true });
        expect(
          h.events.some(([n, p]) => n === 'app:notice' && /SIGKILL/.test((p as { message: string }).message)),
        ).toBe(true);
        // the checkpoint on disk is the last one announced, byte for byte, and the run says so
        const state = JSON.parse(fs.readFileSync(path.join(ckptDir, 'state.json'), 'utf8')) as {
          epochsDone: number;
          history: { loss: number[] };
        };
        const after = hashTree(ckptDir);
        if (state.epochsDone !== lastCkpt || JSON.stringify(after) !== JSON.stringify(before)) t.lost();
        expect(state.epochsDone).toBe(lastCkpt);
        expect(after).toEqual(before);
        const listed = (await h.list()).find((r) => r.runId === runId) as RunSummary;
        expect(listed).toMatchObject({ status: 'failed', epochsDone: lastCkpt });
        expect(listed.history.loss).toEqual(state.history.loss);
        // resume continues in a fresh trainer from exactly that checkpoint
        const mark = h.events.length;
        expect(await h.host.dispatch('runs:resume', { runId })).toMatchObject({ ok: true });
        expect(h.trainer.pid).not.toBe(pid);
        const done = await h.waitStatus(runId, 'completed', mark);
        expect(done.epochsDone).toBe(4);
        const resumedEpochs = h.events
          .slice(mark)
          .flatMap(([n, p]) =>
            n === 'runs:event' && (p as { event: { type: string } }).event.type === 'epoch'
              ? [(p as { event: { epoch: number } }).event.epoch]
              : [],
          );
        expect(resumedEpochs[0]).toBe(lastCkpt + 1);
        const final = (await h.list()).find((r) => r.runId === runId) as RunSummary;
        expect(final.history.loss.slice(0, lastCkpt)).toEqual(state.history.loss); // the epochs before the kill are kept
        expect(final.history.loss.length).toBe(4);
      });
    } finally {
      t.done();
    }
  });

  it('a loss that diverges to NaN stops the run with an explanation', async () => {
    const t = tally('fault', 'loss diverges to NaN / Infinity');
    try {
      await t.attempt(async () => {
        h = createHarness();
        const runId = await h.start({
          ...smallDense,
          epochs: 3,
          optimizer: 'sgd',
          momentum: 0,
          learningRate: 1e4,
          outputActivation: 'linear',
        });
        const failed = await h.waitStatus(runId, 'failed');
        expect(failed.message).toMatch(/The loss became (NaN|infinite) at epoch \d+, batch \d+: training diverged/);
        expect(failed.message).toMatch(/lower learning rate \(now 10000\)/);
        expect(h.runEvents(runId).at(-1)).toMatchObject({ type: 'stopped', reason: 'nan' });
        expect((await h.list())[0]).toMatchObject({ runId, status: 'failed', message: failed.message });
        // the trainer is fine and trains the next run
        const next = await h.start({ ...smallDense, epochs: 1 });
        expect((await h.waitStatus(next, 'completed')).epochsDone).toBe(1);
      });
    } finally {
      t.done();
    }
  });

  it(`${MAX_CONCURRENT_RUNS} runs at once and more queued: each finishes with its own results; a queued run can be cancelled`, async () => {
    const t = tally('fault', 'two runs at once + a third queued (+ one cancelled from the queue)');
    try {
      await t.attempt(async () => {
        expect(MAX_CONCURRENT_RUNS).toBe(2);
        h = createHarness();
        const A = { ...smallDense, latentDim: 16, epochs: 2, seed: 11 };
        const B = { ...smallConv, latentDim: 6, epochs: 2, seed: 22 };
        const a = await h.start(A);
        const b = await h.start(B, { builtin: 'mnist', count: 800 });
        const c = await h.start(A); // the same config as A: must reproduce A's numbers exactly
        const d = await h.start({ ...smallDense, epochs: 1 });
        let list = await h.list();
        const status = (id: string) => list.find((r) => r.runId === id)?.status;
        expect([status(a), status(b), status(c), status(d)]).toEqual(['running', 'running', 'queued', 'queued']);
        expect(list.find((r) => r.runId === c)?.message).toMatch(/Waiting for a free training slot/);
        // stopping a queued run cancels it: it never trains
        expect(await h.host.dispatch('runs:stop', { runId: d })).toMatchObject({
          ok: true,
          result: { stopping: true },
        });
        expect((await h.waitStatus(d, 'stopped')).message).toMatch(/Cancelled before it started/);
        for (const id of [a, b, c]) expect((await h.waitStatus(id, 'completed')).epochsDone).toBe(2);
        expect(h.runEvents(d)).toEqual([]);
        // never more than two at once (from the order of status events)
        let running = 0;
        let peak = 0;
        const state = new Map<string, string>();
        for (const [n, p] of h.events) {
          if (n !== 'runs:status') continue;
          const s = p as { runId: string; status: string };
          state.set(s.runId, s.status);
          running = [...state.values()].filter((v) => v === 'running').length;
          peak = Math.max(peak, running);
        }
        expect(peak).toBe(2);
        // each run's own results: its config on disk, its code size, its own curve
        list = await h.list();
        const get = (id: string) => list.find((r) => r.runId === id) as RunSummary;
        for (const [id, cfg] of [
          [a, A],
          [b, B],
          [c, A],
        ] as const) {
          const saved = JSON.parse(fs.readFileSync(path.join(h.workspace, 'runs', id, 'model', 'config.json'), 'utf8'));
          expect(saved).toMatchObject({ kind: cfg.kind, latentDim: cfg.latentDim, seed: cfg.seed });
          const enc = JSON.parse(
            fs.readFileSync(path.join(h.workspace, 'runs', id, 'model', 'encoder', 'model.json'), 'utf8'),
          );
          expect(JSON.stringify(enc.modelTopology)).toContain(`"units":${cfg.latentDim}`);
          expect(get(id).history.loss.length).toBe(2);
        }
        // A and C: same config and seed, trained at different times beside other runs → the same numbers
        const la = get(a).history.loss;
        const lc = get(c).history.loss;
        la.forEach((v, i) => expect(Math.abs(v - lc[i]) / v).toBeLessThan(1e-4));
        expect(Math.abs(get(a).history.loss[0] - get(b).history.loss[0])).toBeGreaterThan(1e-6);
        // and the cancelled run can still be started later
        const mark = h.events.length;
        expect(await h.host.dispatch('runs:resume', { runId: d })).toMatchObject({ ok: true });
        expect((await h.waitStatus(d, 'completed', mark)).epochsDone).toBe(1);
      });
    } finally {
      t.done();
    }
  });

  it('run folders whose run.json is damaged or missing are listed as damaged and left untouched', async () => {
    const t = tally('fault', 'damaged / missing run.json after a restart');
    try {
      await t.attempt(async () => {
        h = createHarness();
        const good = await h.start({ ...smallDense, epochs: 1 });
        await h.waitStatus(good, 'completed');
        const runs = path.join(h.workspace, 'runs');
        fs.mkdirSync(path.join(runs, 'run-broken-json'));
        fs.writeFileSync(path.join(runs, 'run-broken-json', 'run.json'), '{"runId": "run-broken-js');
        fs.mkdirSync(path.join(runs, 'run-no-summary', 'checkpoint'), { recursive: true });
        fs.writeFileSync(path.join(runs, 'run-no-summary', 'checkpoint', 'state.json'), '{}');
        fs.mkdirSync(path.join(runs, 'run-wrong-id'));
        fs.writeFileSync(
          path.join(runs, 'run-wrong-id', 'run.json'),
          JSON.stringify({ runId: 'someone-else', history: { loss: [] } }),
        );
        const damaged = ['run-broken-json', 'run-no-summary', 'run-wrong-id'];
        const hashDamaged = () => damaged.map((d) => hashTree(path.join(runs, d)));
        const before = hashDamaged();
        await h.restart();
        const list = await h.list();
        const byId = Object.fromEntries(list.map((r) => [r.runId, r]));
        expect(byId[good]).toMatchObject({ status: 'completed', epochsDone: 1 });
        expect(byId['run-broken-json']).toMatchObject({
          status: 'damaged',
          message: expect.stringMatching(/^run\.json could not be read: .*JSON.*untouched/),
        });
        expect(byId['run-no-summary']).toMatchObject({
          status: 'damaged',
          message: expect.stringMatching(/run\.json could not be read: it is missing/),
        });
        expect(byId['run-wrong-id']).toMatchObject({
          status: 'damaged',
          message: expect.stringMatching(/does not describe this run/),
        });
        expect(await h.host.dispatch('runs:resume', { runId: 'run-broken-json' })).toMatchObject({
          ok: false,
          error: { code: 'conflict', message: expect.stringMatching(/cannot be resumed/) },
        });
        expect(await h.host.dispatch('gallery:samples', { runId: 'run-broken-json' })).toMatchObject({
          ok: false,
          error: { code: 'conflict' },
        });
        await h.restart(); // and after another restart (the host flushes its writes when it closes)
        expect(
          (await h.list())
            .filter((r) => r.status === 'damaged')
            .map((r) => r.runId)
            .sort(),
        ).toEqual(damaged);
        const after = hashDamaged();
        if (JSON.stringify(after) !== JSON.stringify(before)) t.lost();
        expect(after).toEqual(before);
      });
    } finally {
      t.done();
    }
  });
});
