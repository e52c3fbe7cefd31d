// The `runs:*` calls: start, stop, resume, list, update, preview.
import crypto from 'node:crypto';
import type { RunSummary } from '../../contract';
import type { TrainerSupervisor } from '../../trainer/supervisor';
import { CallError, type Handlers } from '../dispatch';
import type { RunScheduler } from './scheduler';
import type { RunsState } from './state';

export type RunHandlers = Pick<Handlers, 'runs:start' | 'runs:stop' | 'runs:resume' | 'runs:list' | 'runs:update' | 'runs:preview'>;

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
        config: config as Record<string, unknown>,
        dataset,
        epochsDone: 0,
        history: { loss: [], valLoss: [] },
        startedAt: Date.now(),
      };
      state.runs.set(run.runId, run);
      await scheduler.schedule(run, false);
      return { runId: run.runId };
    },
    'runs:stop': async ({ runId }) => {
      const run = find(runId);
      if (run.status === 'queued') {
        scheduler.unqueue(run);
        state.setStatus(run, 'stopped', run.epochsDone > 0 ? `Taken out of the queue; resume continues after epoch ${run.epochsDone}.` : 'Cancelled before it started; resume starts it.');
        return { stopping: true };
      }
      if (run.status !== 'running') return { stopping: false };
      return trainer.request('runStop', { runId });
    },
    'runs:resume': async ({ runId }) => {
      const run = find(runId);
      if (run.status === 'running' || run.status === 'queued') throw new CallError('conflict', `Run '${runId}' is already ${run.status}.`);
      if (run.status === 'completed') throw new CallError('conflict', `Run '${runId}' has finished; start a new run to train more.`);
      if (run.status === 'damaged') throw new CallError('conflict', `Run '${runId}' cannot be resumed: ${run.message ?? 'its run.json is damaged'}`);
      // a run stopped before its first checkpoint starts from scratch
      await scheduler.schedule(run, state.files.hasCheckpoint(runId));
      return { runId };
    },
    'runs:list': () => [...state.runs.values()].sort((a, b) => b.startedAt - a.startedAt).map((run) => decided(state, run)),
    'runs:update': ({ runId, name, note }) => {
      const run = find(runId);
      if (run.status === 'damaged') throw new CallError('conflict', `Run '${runId}' cannot be changed: ${run.message ?? 'its run.json is damaged'}`);
      if (name !== undefined) run.name = name;
      if (note !== undefined) run.note = note || undefined;
      state.files.persist(run);
      return run;
    },
    'runs:preview': ({ runId }) => state.files.readPreview(find(runId).runId),
  };
}

/** What the host decides for the renderer: whether the run has a model, and whether and from where it resumes. */
function decided(state: RunsState, run: RunSummary): RunSummary {
  const settled = run.status !== 'running' && run.status !== 'queued' && run.status !== 'damaged';
  const hasModel = settled && state.files.hasModel(run.runId);
  const resumable = run.status === 'stopped' || run.status === 'failed';
  const { resume: _r, hasModel: _h, ...rest } = run;
  return { ...rest, hasModel, ...(resumable ? { resume: run.epochsDone > 0 && state.files.hasCheckpoint(run.runId) ? 'checkpoint' : hasModel ? 'model' : 'start' } : {}) };
}
