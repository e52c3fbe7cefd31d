// Host side of `runs:*`: keeps the session's runs, starts them in the trainer process (at most
// MAX_CONCURRENT_RUNS at once; further runs wait as 'queued' and start when a slot frees), relays
// their events, and turns a trainer crash into a failed run that can be resumed from its last
// checkpoint. Run folders live in <workspace>/runs/<runId>/.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { RunCheckpointState, RunPreview, StoredRunSummary, type EventPayload, type RunSummary } from '../contract';
import { plainIssue } from '../contract/model-validate';
import type { TrainerEventArgs } from '../trainer/protocol';
import type { TrainerSupervisor } from '../trainer/supervisor';
import type { Handlers } from './dispatch';
import { CallError } from './dispatch';
import { readableDir, writeFileAtomicAsync } from '../fs-safety/atomic';

/** How many runs train at once; later runs are queued. */
export const MAX_CONCURRENT_RUNS = 2;

type Emit = <N extends 'runs:event' | 'runs:status' | 'app:notice'>(name: N, payload: EventPayload<N>) => void;

const isDir = (p: string) => {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
};

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15).toLowerCase();
  return `run-${stamp}-${crypto.randomBytes(2).toString('hex')}`;
}

export function createRunsService(opts: {
  trainer: TrainerSupervisor;
  workspaceDir: string;
  emit: Emit;
  /** How many runs train at once (the workspace setting); MAX_CONCURRENT_RUNS when absent. */
  maxConcurrent?: () => number;
}) {
  const limit = () => opts.maxConcurrent?.() ?? MAX_CONCURRENT_RUNS;
  const runs = new Map<string, RunSummary>();
  const runDir = (runId: string) => path.join(opts.workspaceDir, 'runs', runId);

  // Each run's summary is kept in <run>/run.json (temp file + rename, one write at a time per run),
  // so the session's runs come back after a restart.
  const writes = new Map<string, Promise<void>>();
  const warned = new Set<string>();
  const persist = (run: RunSummary) => {
    const file = path.join(runDir(run.runId), 'run.json');
    const data = JSON.stringify(run);
    const prev = writes.get(run.runId) ?? Promise.resolve();
    const next = prev
      .then(() => writeFileAtomicAsync(file, data)) // a full disk: run.json keeps its last good version
      .catch((err: NodeJS.ErrnoException) => {
        // the run goes on and the next change writes run.json again; the user hears of it once per run
        if (warned.has(run.runId)) return;
        warned.add(run.runId);
        const why = err.code === 'ENOSPC' || err.code === 'EDQUOT' ? 'the disk is full' : (err.code ?? err.message);
        opts.emit('app:notice', {
          level: 'warning',
          message: `The summary of run ${run.runId} (run.json) could not be saved: ${why}. Training goes on; its checkpoints are separate, and run.json is written again at the next epoch.`,
          at: Date.now(),
        });
      });
    writes.set(run.runId, next);
  };

  // The latest reconstruction preview of each run, kept in memory while it trains and written to
  // <run>/preview.json when it ends, so a finished run still shows its previews after a reload.
  const previews = new Map<string, RunPreview>();
  const savePreview = (runId: string) => {
    const p = previews.get(runId);
    if (!p) return;
    const file = path.join(runDir(runId), 'preview.json');
    const prev = writes.get(runId) ?? Promise.resolve();
    writes.set(
      runId,
      prev.then(() => writeFileAtomicAsync(file, JSON.stringify(p))).catch(() => undefined), // no preview kept is not worth failing a run over
    );
  };
  const readPreview = (runId: string): RunPreview | null => {
    const inMemory = previews.get(runId);
    if (inMemory) return inMemory;
    try {
      const p = RunPreview.safeParse(JSON.parse(fs.readFileSync(path.join(runDir(runId), 'preview.json'), 'utf8')));
      return p.success ? p.data : null;
    } catch {
      return null;
    }
  };

  /** Takes epochs and history from the run's last checkpoint on disk (the truth after a failure). */
  function fromCheckpoint(run: RunSummary) {
    try {
      const ckpt = readableDir(path.join(runDir(run.runId), 'checkpoint'));
      if (!ckpt || !fs.existsSync(path.join(ckpt, 'state.json'))) return;
      const st = RunCheckpointState.safeParse(JSON.parse(fs.readFileSync(path.join(ckpt, 'state.json'), 'utf8')));
      if (st.success) {
        run.epochsDone = st.data.epochsDone;
        run.history = st.data.history;
      }
    } catch {
      // a damaged checkpoint: the summary's own numbers stand; resume will say what is wrong
    }
  }

  // Runs from earlier sessions. One that was running when the studio stopped is shown as stopped
  // ("interrupted") and resumes from its last checkpoint.
  // A run folder whose run.json cannot be read is listed as 'damaged' and never touched.
  const runsRoot = path.join(opts.workspaceDir, 'runs');
  for (const id of fs.existsSync(runsRoot) ? fs.readdirSync(runsRoot) : []) {
    if (!/^[a-z0-9-]{1,64}$/.test(id) || !isDir(runDir(id))) continue; // temp files, stray entries
    let saved: RunSummary;
    try {
      const parsed = StoredRunSummary.safeParse(JSON.parse(fs.readFileSync(path.join(runDir(id), 'run.json'), 'utf8')));
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        throw new Error(`it does not describe this run (${i.path.join('.') || 'the file'}: ${plainIssue(i)})`);
      }
      saved = parsed.data;
      if (saved.runId !== id) throw new Error(`it does not describe this run (it names run '${saved.runId}')`);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is missing' : (err as Error).message;
      let startedAt = 0;
      try {
        startedAt = fs.statSync(runDir(id)).mtimeMs;
      } catch {
        // listed anyway
      }
      runs.set(id, {
        runId: id,
        status: 'damaged',
        config: null,
        dataset: { id: 'unknown' },
        epochsDone: 0,
        history: { loss: [], valLoss: [] },
        startedAt,
        message: `run.json could not be read: ${reason}. The folder runs/${id} was left untouched.`,
      });
      continue;
    }
    if (saved.status !== 'completed') fromCheckpoint(saved);
    if (saved.status === 'running') {
      saved.status = 'stopped';
      saved.message = `Interrupted: the studio stopped while this run was training. Resume continues after epoch ${saved.epochsDone}.`;
    } else if (saved.status === 'queued') {
      saved.status = 'stopped';
      saved.message = 'Interrupted: the studio stopped while this run was waiting in the queue. Resume starts it.';
    }
    runs.set(id, saved);
  }

  const setStatus = (run: RunSummary, status: RunSummary['status'], message?: string) => {
    run.status = status;
    run.message = message;
    persist(run);
    opts.emit('runs:status', { runId: run.runId, status, message, epochsDone: run.epochsDone });
  };

  const onTrainerEvent = (...[name, payload]: TrainerEventArgs) => {
    if (name === 'run-event') {
      const p = payload;
      const run = runs.get(p.runId);
      if (!run) return;
      if (p.event.type === 'step') {
        const { type: _t, ...info } = p.event;
        run.step = info;
        persist(run);
        if (info.fallback) {
          const what = info.step === 'tfjs' ? "tfjs's own, much slower training step" : 'the training step kernel by kernel instead of as one TensorFlow graph (slower)';
          opts.emit('app:notice', { level: 'warning', message: `Run ${run.runId} trains with ${what}: ${info.reason ?? 'no reason given'}.`, at: Date.now() });
        }
      }
      if (p.event.type === 'epoch') {
        run.epochsDone = p.event.epoch;
        run.history.loss[p.event.epoch - 1] = p.event.loss;
        run.history.valLoss[p.event.epoch - 1] = p.event.valLoss;
        run.samplesPerSec = p.event.samplesPerSec;
        run.elapsedSec = p.event.elapsedSec;
        persist(run);
      } else if (p.event.type === 'preview') previews.set(run.runId, p.event);
      opts.emit('runs:event', p);
    } else if (name === 'run-end') {
      const p = payload;
      const run = runs.get(p.runId);
      if (!run) return;
      run.epochsDone = p.result.epochsDone;
      if (p.result.history.loss.length) run.history = p.result.history;
      if (p.result.step) run.step = p.result.step;
      if (p.result.metrics) run.metrics = p.result.metrics;
      if (p.result.status === 'failed') fromCheckpoint(run);
      setStatus(run, p.result.status, p.result.message);
      savePreview(run.runId);
      pump();
    }
  };
  const onState = (s: EventPayload<'trainer:state'>) => {
    if (s.state !== 'crashed') return;
    for (const run of runs.values()) {
      if (run.status === 'running') {
        fromCheckpoint(run);
        savePreview(run.runId);
        setStatus(run, 'failed', `The trainer process stopped during this run (${s.error ?? 'unknown reason'}). Resume continues from the last checkpoint (epoch ${run.epochsDone}).`);
      }
    }
    pump(); // queued runs start in a fresh trainer
  };
  opts.trainer.on('trainer-event', onTrainerEvent);
  opts.trainer.on('state', onState);

  const launch = async (run: RunSummary, resume: boolean) => {
    setStatus(run, 'running');
    try {
      if (!run.config) throw new Error(`Run '${run.runId}' has no config it can train with (its run.json is damaged).`);
      await opts.trainer.request('runStart', { runId: run.runId, runDir: runDir(run.runId), workspaceDir: opts.workspaceDir, config: run.config, dataset: run.dataset, resume });
    } catch (err) {
      setStatus(run, 'failed', (err as Error).message);
      pump();
      throw err;
    }
  };

  // The queue: runs waiting for a training slot, oldest first. `resume` says whether the run
  // continues from its checkpoint.
  const queue: Array<{ run: RunSummary; resume: boolean }> = [];
  const active = () => [...runs.values()].filter((r) => r.status === 'running').length;
  let disposed = false;
  function pump() {
    while (!disposed && queue.length && active() < limit()) {
      const next = queue.shift() as { run: RunSummary; resume: boolean };
      if (next.run.status !== 'queued') continue; // cancelled meanwhile
      launch(next.run, next.resume).catch(() => undefined); // the run is marked failed with the reason
    }
  }
  /** Starts the run now if a slot is free, else queues it; resolves once it started or was queued. */
  const schedule = async (run: RunSummary, resume: boolean) => {
    if (active() < limit() && !queue.some((q) => q.run.status === 'queued')) return launch(run, resume);
    queue.push({ run, resume });
    const ahead = queue.filter((q) => q.run.status === 'queued').length;
    setStatus(run, 'queued', `Waiting for a free training slot (${limit() === 1 ? 'one run trains' : `${limit()} runs train`} at once; ${ahead} waiting, this one included).`);
  };
  const hasCheckpoint = (runId: string) => !!readableDir(path.join(runDir(runId), 'checkpoint'));
  const modelOnDisk = (runId: string) => fs.existsSync(path.join(runDir(runId), 'model', 'encoder', 'model.json'));
  /** What the host decides for the renderer: whether the run has a model, and whether and from where it resumes. */
  const decided = (run: RunSummary): RunSummary => {
    const settled = run.status !== 'running' && run.status !== 'queued' && run.status !== 'damaged';
    const hasModel = settled && modelOnDisk(run.runId);
    const resumable = run.status === 'stopped' || run.status === 'failed';
    const { resume: _r, hasModel: _h, ...rest } = run;
    return { ...rest, hasModel, ...(resumable ? { resume: run.epochsDone > 0 && hasCheckpoint(run.runId) ? 'checkpoint' : hasModel ? 'model' : 'start' } : {}) };
  };

  const handlers: Pick<Handlers, 'runs:start' | 'runs:stop' | 'runs:resume' | 'runs:list' | 'runs:update' | 'runs:preview'> = {
    'runs:start': async ({ config, dataset, name }) => {
      const run: RunSummary = {
        runId: newRunId(),
        ...(name ? { name } : {}),
        status: 'queued', // until schedule() starts it (a 'running' one would hold a slot)
        config,
        dataset,
        epochsDone: 0,
        history: { loss: [], valLoss: [] },
        startedAt: Date.now(),
      };
      runs.set(run.runId, run);
      await schedule(run, false);
      return { runId: run.runId };
    },
    'runs:stop': async ({ runId }) => {
      const run = runs.get(runId);
      if (!run) throw new CallError('not_found', `There is no run '${runId}'.`);
      if (run.status === 'queued') {
        const i = queue.findIndex((q) => q.run === run);
        if (i >= 0) queue.splice(i, 1);
        setStatus(run, 'stopped', run.epochsDone > 0 ? `Taken out of the queue; resume continues after epoch ${run.epochsDone}.` : 'Cancelled before it started; resume starts it.');
        return { stopping: true };
      }
      if (run.status !== 'running') return { stopping: false };
      return opts.trainer.request('runStop', { runId });
    },
    'runs:resume': async ({ runId }) => {
      const run = runs.get(runId);
      if (!run) throw new CallError('not_found', `There is no run '${runId}'.`);
      if (run.status === 'running' || run.status === 'queued') throw new CallError('conflict', `Run '${runId}' is already ${run.status}.`);
      if (run.status === 'completed') throw new CallError('conflict', `Run '${runId}' has finished; start a new run to train more.`);
      if (run.status === 'damaged') throw new CallError('conflict', `Run '${runId}' cannot be resumed: ${run.message ?? 'its run.json is damaged'}`);
      // a run stopped before its first checkpoint starts from scratch
      await schedule(run, hasCheckpoint(runId));
      return { runId };
    },
    'runs:list': () => [...runs.values()].sort((a, b) => b.startedAt - a.startedAt).map(decided),
    'runs:update': ({ runId, name, note }) => {
      const run = runs.get(runId);
      if (!run) throw new CallError('not_found', `There is no run '${runId}'.`);
      if (run.status === 'damaged') throw new CallError('conflict', `Run '${runId}' cannot be changed: ${run.message ?? 'its run.json is damaged'}`);
      if (name !== undefined) run.name = name;
      if (note !== undefined) run.note = note || undefined;
      persist(run);
      return run;
    },
    'runs:preview': ({ runId }) => {
      if (!runs.has(runId)) throw new CallError('not_found', `There is no run '${runId}'.`);
      return readPreview(runId);
    },
  };

  return {
    handlers,
    /** Lists a run made outside training (an imported model) and saves its run.json. */
    add(run: RunSummary) {
      runs.set(run.runId, run);
      persist(run);
      opts.emit('runs:status', { runId: run.runId, status: run.status, message: run.message, epochsDone: run.epochsDone });
    },
    /** A run of this session and its folder, for the Gallery. */
    get(runId: string): { run: RunSummary; dir: string } | undefined {
      const run = runs.get(runId);
      return run ? { run, dir: runDir(runId) } : undefined;
    },
    /** Starts queued runs if the limit went up. */
    reschedule: () => pump(),
    /** How many runs train now. */
    activeCount: () => active(),
    /** The runs training or waiting to train. */
    busy: (): RunSummary[] => [...runs.values()].filter((r) => r.status === 'running' || r.status === 'queued'),
    /** How many runs the workspace lists (damaged ones included). */
    count: () => runs.size,
    /** Resolves when every run.json write asked for so far has landed. */
    async flush(): Promise<void> {
      await Promise.all([...writes.values()]);
    },
    dispose() {
      disposed = true;
      opts.trainer.off('trainer-event', onTrainerEvent);
      opts.trainer.off('state', onState);
    },
  };
}
