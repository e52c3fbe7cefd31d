// Host side of `runs:*`: keeps the session's runs, starts them in the trainer process, relays
// their events, and turns a trainer crash into a failed run that can be resumed from its last
// checkpoint. Run folders live in <workspace>/runs/<runId>/.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { EventPayload, RunEventPayload, RunSummary } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';

type Emit = <N extends 'runs:event' | 'runs:status'>(name: N, payload: EventPayload<N>) => void;

interface EndPayload {
  runId: string;
  result: { status: 'completed' | 'stopped' | 'failed'; epochsDone: number; history: RunSummary['history']; message?: string };
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15).toLowerCase();
  return `run-${stamp}-${crypto.randomBytes(2).toString('hex')}`;
}

export function createRunsService(opts: { trainer: TrainerSupervisor; workspaceDir: string; emit: Emit }) {
  const runs = new Map<string, RunSummary>();
  const runDir = (runId: string) => path.join(opts.workspaceDir, 'runs', runId);

  // Each run's summary is kept in <run>/run.json (temp file + rename, one write at a time per run),
  // so the session's runs come back after a restart.
  const writes = new Map<string, Promise<void>>();
  const persist = (run: RunSummary) => {
    const file = path.join(runDir(run.runId), 'run.json');
    const data = JSON.stringify(run);
    const prev = writes.get(run.runId) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        const tmp = `${file}.tmp-${process.pid}`;
        await fs.promises.writeFile(tmp, data);
        await fs.promises.rename(tmp, file);
      })
      .catch(() => undefined); // a failed write is retried by the next change; the run goes on
    writes.set(run.runId, next);
  };

  // Runs from earlier sessions. One that was running when the studio stopped is shown as stopped
  // ("interrupted") and resumes from its last checkpoint.
  for (const id of fs.existsSync(path.join(opts.workspaceDir, 'runs')) ? fs.readdirSync(path.join(opts.workspaceDir, 'runs')) : []) {
    try {
      const saved = JSON.parse(fs.readFileSync(path.join(runDir(id), 'run.json'), 'utf8')) as RunSummary;
      if (saved.runId !== id) continue;
      const statePath = path.join(runDir(id), 'checkpoint', 'state.json');
      if (fs.existsSync(statePath)) {
        const st = JSON.parse(fs.readFileSync(statePath, 'utf8')) as { epochsDone: number; history: RunSummary['history'] };
        if (saved.status !== 'completed') {
          saved.epochsDone = st.epochsDone;
          saved.history = st.history;
        }
      }
      if (saved.status === 'running') {
        saved.status = 'stopped';
        saved.message = `Interrupted: the studio stopped while this run was training. Resume continues after epoch ${saved.epochsDone}.`;
      }
      runs.set(id, saved);
    } catch {
      // not a run folder, or a damaged run.json: the folder stays on disk untouched
    }
  }

  const setStatus = (run: RunSummary, status: RunSummary['status'], message?: string) => {
    run.status = status;
    run.message = message;
    persist(run);
    opts.emit('runs:status', { runId: run.runId, status, message, epochsDone: run.epochsDone });
  };

  const onTrainerEvent = (name: string, payload: unknown) => {
    if (name === 'run-event') {
      const p = payload as RunEventPayload;
      const run = runs.get(p?.runId);
      if (!run) return;
      if (p.event.type === 'epoch') {
        run.epochsDone = p.event.epoch;
        run.history.loss[p.event.epoch - 1] = p.event.loss;
        run.history.valLoss[p.event.epoch - 1] = p.event.valLoss;
        persist(run);
      }
      opts.emit('runs:event', p);
    } else if (name === 'run-end') {
      const p = payload as EndPayload;
      const run = runs.get(p?.runId);
      if (!run) return;
      run.epochsDone = p.result.epochsDone;
      if (p.result.history.loss.length) run.history = p.result.history;
      setStatus(run, p.result.status, p.result.message);
    }
  };
  const onState = (s: EventPayload<'trainer:state'>) => {
    if (s.state !== 'crashed') return;
    for (const run of runs.values()) {
      if (run.status === 'running') {
        setStatus(run, 'failed', `The trainer process stopped during this run (${s.error ?? 'unknown reason'}). Resume continues from the last checkpoint (epoch ${run.epochsDone}).`);
      }
    }
  };
  opts.trainer.on('trainer-event', onTrainerEvent);
  opts.trainer.on('state', onState);

  const launch = async (run: RunSummary, resume: boolean) => {
    setStatus(run, 'running');
    try {
      await opts.trainer.request('runStart', { runId: run.runId, runDir: runDir(run.runId), workspaceDir: opts.workspaceDir, config: run.config, dataset: run.dataset, resume });
    } catch (err) {
      setStatus(run, 'failed', (err as Error).message);
      throw err;
    }
  };

  const handlers: Pick<Handlers, 'runs:start' | 'runs:stop' | 'runs:resume' | 'runs:list'> = {
    'runs:start': async ({ config, dataset }) => {
      const run: RunSummary = {
        runId: newRunId(),
        status: 'running',
        config: config as Record<string, unknown>,
        dataset,
        epochsDone: 0,
        history: { loss: [], valLoss: [] },
        startedAt: Date.now(),
      };
      runs.set(run.runId, run);
      await launch(run, false);
      return { runId: run.runId };
    },
    'runs:stop': async ({ runId }) => {
      const run = runs.get(runId);
      if (!run) throw new CallError('invalid_payload', `There is no run '${runId}'.`);
      if (run.status !== 'running') return { stopping: false };
      return opts.trainer.request('runStop', { runId });
    },
    'runs:resume': async ({ runId }) => {
      const run = runs.get(runId);
      if (!run) throw new CallError('invalid_payload', `There is no run '${runId}'.`);
      if (run.status === 'running') throw new CallError('invalid_payload', `Run '${runId}' is already running.`);
      if (run.status === 'completed') throw new CallError('invalid_payload', `Run '${runId}' has finished; start a new run to train more.`);
      await launch(run, true);
      return { runId };
    },
    'runs:list': () => [...runs.values()].sort((a, b) => b.startedAt - a.startedAt),
  };

  return {
    handlers,
    /** A run of this session and its folder, for the Gallery. */
    get(runId: string): { run: RunSummary; dir: string } | undefined {
      const run = runs.get(runId);
      return run ? { run, dir: runDir(runId) } : undefined;
    },
    dispose() {
      opts.trainer.off('trainer-event', onTrainerEvent);
      opts.trainer.off('state', onState);
    },
  };
}
