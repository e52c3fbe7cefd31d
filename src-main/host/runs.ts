// Host side of `runs:*`: keeps the session's runs, starts them in the trainer process (at most
// MAX_CONCURRENT_RUNS at once; further runs wait as 'queued' and start when a slot frees), relays
// their events, and turns a trainer crash into a failed run that can be resumed from its last
// checkpoint. Run folders live in <workspace>/runs/<runId>/. A run this process trains or queues is
// locked for it (ownership.ts); runs another process trains are listed as 'training-elsewhere' and
// followed live. `createRunsService` only wires the units of runs/: the files (files.ts), the runs
// read back (reload.ts), the shared state and locks (state.ts), the training slots (scheduler.ts),
// the trainer's events (relay.ts), other processes' runs (watch.ts) and the calls (handlers.ts).
import type { AppInfo, RunSummary } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';
import { RunFiles } from './runs/files';
import { runHandlers } from './runs/handlers';
import { reloadRuns } from './runs/reload';
import { RunEventRelay } from './runs/relay';
import { RunScheduler } from './runs/scheduler';
import { RunsState, type Emit } from './runs/state';
import { RunWatcher, WATCH_INTERVAL_MS } from './runs/watch';

export { newRunId } from './runs/handlers';

/** How many runs train at once; later runs are queued. */
export const MAX_CONCURRENT_RUNS = 2;

export function createRunsService(opts: {
  trainer: TrainerSupervisor;
  workspaceDir: string;
  emit: Emit;
  /** How many runs train at once (the workspace setting); MAX_CONCURRENT_RUNS when absent. */
  maxConcurrent?: () => number;
  /** Which studio this is (recorded in the owner.json of the runs it trains). */
  app?: AppInfo['mode'];
  /** How often runs other processes write are looked at (ms). */
  watchMs?: number;
}) {
  const state = new RunsState(new RunFiles(opts.workspaceDir, opts.emit), opts.emit, opts.app ?? 'unknown');
  for (const run of reloadRuns(state.files)) state.runs.set(run.runId, run);
  const scheduler = new RunScheduler(state, opts.trainer, () => opts.maxConcurrent?.() ?? MAX_CONCURRENT_RUNS);
  const relay = new RunEventRelay(state, scheduler, opts.trainer);
  const watcher = new RunWatcher(state, opts.watchMs ?? WATCH_INTERVAL_MS);

  return {
    handlers: runHandlers(state, scheduler, opts.trainer),
    /** Lists a run made outside training (an imported model) and saves its run.json; resolves once it is written. */
    add(run: RunSummary): Promise<void> {
      state.runs.set(run.runId, run);
      state.files.persist(run);
      opts.emit('runs:status', {
        runId: run.runId,
        status: run.status,
        message: run.message,
        epochsDone: run.epochsDone,
      });
      return state.files.afterWrites(run.runId, async () => undefined); // resolves once run.json landed
    },
    /** A run of this session and its folder, for the Gallery. */
    get(runId: string): { run: RunSummary; dir: string } | undefined {
      const run = state.runs.get(runId);
      return run ? { run, dir: state.files.dir(runId) } : undefined;
    },
    /** Every run of the workspace. */
    list: (): RunSummary[] => [...state.runs.values()],
    /** Starts queued runs if the limit went up. */
    reschedule: () => scheduler.pump(),
    /** How many runs train now. */
    activeCount: () => state.active(),
    /** The runs training or waiting to train. */
    busy: (): RunSummary[] => [...state.runs.values()].filter((r) => r.status === 'running' || r.status === 'queued'),
    /** How many runs the workspace lists (damaged ones included). */
    count: () => state.runs.size,
    /** Whether this process holds the run's lock (training, queued, or giving the lock back). */
    owns: (runId: string) => state.owns(runId),
    /** Runs another process trains now (for the datasets they read). */
    elsewhere: (): RunSummary[] => [...state.runs.values()].filter((r) => r.status === 'training-elsewhere'),
    /** Looks at the run folders now for runs other processes write (tests; a timer does it every second). */
    watchNow: () => watcher.tick(),
    /** Resolves when every run.json write asked for so far has landed (and the locks of settled runs are given back). */
    flush: () => state.files.flush(),
    /** Stops; the locks this process holds go once their last writes landed (`flush` waits for them). */
    dispose() {
      scheduler.dispose();
      relay.dispose();
      watcher.dispose();
      void state.letGoAll();
    },
  };
}
