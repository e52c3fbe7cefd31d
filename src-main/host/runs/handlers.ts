// The `runs:*` calls: start, stop, resume, list, update, preview, batchLoss.
import crypto from 'node:crypto';
import type { RunSummary } from '../../contract';
import type { TrainerSupervisor } from '../../trainer/supervisor';
import { CallError, type Handlers } from '../dispatch';
import { OwnedElsewhere, ownerOf, runOwnedMessage, takeOwnership } from '../ownership';
import { reloadRun } from './reload';
import type { RunScheduler } from './scheduler';
import type { RunsState } from './state';

export type RunHandlers = Pick<
  Handlers,
  'runs:start' | 'runs:stop' | 'runs:resume' | 'runs:list' | 'runs:update' | 'runs:preview' | 'runs:batchLoss'
>;

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15).toLowerCase();
  return `run-${stamp}-${crypto.randomBytes(2).toString('hex')}`;
}

export function runHandlers(state: RunsState, scheduler: RunScheduler, trainer: TrainerSupervisor): RunHandlers {
  const find = (runId: string): RunSummary => {
    const run = state.runs.get(runId);
    if (!run) throw new CallError('not_found', `There is no run '${runId}'.`);
    return run;
  };
  return {
    'runs:start': async ({ config, dataset, name }) => {
      const run: RunSummary = {
        runId: newRunId(),
        ...(name ? { name } : {}),
        status: 'queued', // until the scheduler starts it (a 'running' one would hold a slot)
        config,
        dataset,
        epochsDone: 0,
        history: { loss: [], valLoss: [] },
        startedAt: Date.now(),
      };
      await state.claim(run); // a new folder: nobody else holds it
      state.runs.set(run.runId, run);
      await scheduler.schedule(run, false);
      return { runId: run.runId };
    },
    'runs:stop': async ({ runId }) => {
      const run = find(runId);
      if (run.status === 'training-elsewhere') throw new CallError('conflict', elsewhere(state, run));
      if (run.status === 'queued') {
        scheduler.unqueue(run);
        state.setStatus(
          run,
          'stopped',
          run.epochsDone > 0
            ? `Taken out of the queue; resume continues after epoch ${run.epochsDone}.`
            : 'Cancelled before it started; resume starts it.',
        );
        return { stopping: true };
      }
      if (run.status !== 'running') return { stopping: false };
      return trainer.request('runStop', { runId });
    },
    'runs:resume': async ({ runId }) => {
      const run = find(runId);
      if (run.status === 'running' || run.status === 'queued')
        throw new CallError('conflict', `Run '${runId}' is already ${run.status}.`);
      if (run.status === 'completed')
        throw new CallError('conflict', `Run '${runId}' has finished; start a new run to train more.`);
      if (run.status === 'damaged')
        throw new CallError(
          'conflict',
          `Run '${runId}' cannot be resumed: ${run.message ?? 'its run.json is damaged'}`,
        );
      if (run.status === 'training-elsewhere') throw new CallError('conflict', elsewhere(state, run));
      await state.claim(run); // refused, naming the owner, when another studio took it since the list was read
      // Another studio may have trained it further since this one read it: its run.json is the truth now.
      const fresh = reloadRun(state.files, runId, false);
      if (!fresh || fresh.status === 'completed' || fresh.status === 'damaged') {
        await state.letGo(runId);
        if (fresh) state.runs.set(runId, fresh);
        throw new CallError(
          'conflict',
          fresh?.status === 'completed'
            ? `Run '${runId}' has finished; start a new run to train more.`
            : `Run '${runId}' cannot be resumed: ${fresh?.message ?? 'its run.json is missing'}`,
        );
      }
      Object.assign(run, fresh);
      // a run stopped before its first checkpoint starts from scratch
      await scheduler.schedule(run, state.files.hasCheckpoint(runId));
      return { runId };
    },
    'runs:list': () =>
      [...state.runs.values()].sort((a, b) => b.startedAt - a.startedAt).map((run) => decided(state, run)),
    'runs:update': async ({ runId, name, note }) => {
      const run = find(runId);
      if (run.status === 'damaged')
        throw new CallError(
          'conflict',
          `Run '${runId}' cannot be changed: ${run.message ?? 'its run.json is damaged'}`,
        );
      if (run.status === 'training-elsewhere') throw new CallError('conflict', elsewhere(state, run));
      const rename = (r: RunSummary) => {
        if (name !== undefined) r.name = name;
        if (note !== undefined) r.note = note || undefined;
      };
      if (state.owns(runId)) {
        rename(run); // this process trains it: its summary is the truth
        state.files.persist(run);
        return run;
      }
      // Hold the run while its run.json is read, changed and written, so no other studio writes it meanwhile.
      let lock;
      try {
        lock = await takeOwnership(
          state.files.dir(runId),
          { app: state.app, what: 'renaming' },
          { refusal: (o) => runOwnedMessage(runId, o), retries: 5 },
        );
      } catch (err) {
        if (err instanceof OwnedElsewhere) throw new CallError('conflict', err.message);
        throw err;
      }
      try {
        const fresh = reloadRun(state.files, runId, false) ?? run;
        if (fresh.status === 'damaged')
          throw new CallError(
            'conflict',
            `Run '${runId}' cannot be changed: ${fresh.message ?? 'its run.json is damaged'}`,
          );
        Object.assign(run, fresh);
        rename(run);
        state.files.persist(run);
        await state.files.afterWrites(runId, async () => undefined);
      } finally {
        await lock.release();
      }
      return run;
    },
    'runs:preview': ({ runId }) => state.files.readPreview(find(runId).runId),
    'runs:batchLoss': ({ runId }) => {
      const { x, y } = state.files.readBatchLoss(find(runId).runId);
      return { x, y: y.map((v) => (Number.isFinite(v) ? v : null)) }; // a NaN loss travels as null
    },
  };
}

/** The refusal for a run another studio trains, naming the owner as its lock says now. */
function elsewhere(state: RunsState, run: RunSummary): string {
  const o = ownerOf(state.files.dir(run.runId));
  return o
    ? runOwnedMessage(run.runId, o)
    : `Run ${run.runId} was training in another studio a moment ago; its list entry is being refreshed — try again in a second.`;
}

/** What the host decides for the renderer: whether the run has a model, and whether and from where it resumes. */
function decided(state: RunsState, run: RunSummary): RunSummary {
  const settled = run.status !== 'running' && run.status !== 'queued' && run.status !== 'damaged';
  const hasModel = settled && state.files.hasModel(run.runId);
  const resumable = run.status === 'stopped' || run.status === 'failed';
  const { resume: _r, hasModel: _h, ...rest } = run;
  return {
    ...rest,
    hasModel,
    ...(resumable
      ? {
          resume:
            run.epochsDone > 0 && state.files.hasCheckpoint(run.runId) ? 'checkpoint' : hasModel ? 'model' : 'start',
        }
      : {}),
  };
}
