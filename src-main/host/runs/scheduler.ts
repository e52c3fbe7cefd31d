// The training slots: at most `limit()` runs train at once; later runs wait as 'queued', oldest
// first, and start when a slot frees (a run ends, the trainer restarts, the limit goes up).
import type { RunSummary } from '../../contract';
import type { TrainerSupervisor } from '../../trainer/supervisor';
import type { RunsState } from './state';

interface Waiting {
  run: RunSummary;
  /** Whether the run continues from its checkpoint. */
  resume: boolean;
}

export class RunScheduler {
  private readonly queue: Waiting[] = [];
  private disposed = false;

  constructor(
    private readonly state: RunsState,
    private readonly trainer: TrainerSupervisor,
    private readonly limit: () => number,
  ) {}

  /** Starts the run now if a slot is free, else queues it; resolves once it started or was queued. */
  async schedule(run: RunSummary, resume: boolean): Promise<void> {
    if (this.state.active() < this.limit() && !this.queue.some((q) => q.run.status === 'queued'))
      return this.launch(run, resume);
    this.queue.push({ run, resume });
    const ahead = this.queue.filter((q) => q.run.status === 'queued').length;
    const limit = this.limit();
    this.state.setStatus(
      run,
      'queued',
      `Waiting for a free training slot (${limit === 1 ? 'one run trains' : `${limit} runs train`} at once; ${ahead} waiting, this one included).`,
    );
  }

  /** Takes a queued run out of the queue (it is stopped by the caller). */
  unqueue(run: RunSummary): void {
    const i = this.queue.findIndex((q) => q.run === run);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** Starts queued runs while slots are free. */
  pump(): void {
    while (!this.disposed && this.queue.length && this.state.active() < this.limit()) {
      const next = this.queue.shift() as Waiting;
      if (next.run.status !== 'queued') continue; // cancelled meanwhile
      this.launch(next.run, next.resume).catch(() => undefined); // the run is marked failed with the reason
    }
  }

  dispose(): void {
    this.disposed = true;
  }

  private async launch(run: RunSummary, resume: boolean): Promise<void> {
    const { state } = this;
    state.elapsedBefore.set(run.runId, resume ? (run.elapsedSec ?? 0) : 0);
    state.files.startBatchLoss(run.runId, resume ? run.epochsDone : null);
    state.setStatus(run, 'running');
    try {
      if (!run.config) throw new Error(`Run '${run.runId}' has no config it can train with (its run.json is damaged).`);
      await this.trainer.request('runStart', {
        runId: run.runId,
        runDir: state.files.dir(run.runId),
        workspaceDir: state.files.workspaceDir,
        config: run.config,
        dataset: run.dataset,
        resume,
      });
    } catch (err) {
      state.setStatus(run, 'failed', (err as Error).message);
      this.pump();
      throw err;
    }
  }
}
