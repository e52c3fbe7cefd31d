// What the units of the runs service share: the session's runs, their files, the locks this process
// holds on the runs it trains (ownership.ts), and the one way a run's status changes (saved and announced).
import type { EventPayload, RunSummary } from '../../contract';
import { CallError } from '../dispatch';
import { OwnedElsewhere, runOwnedMessage, takeOwnership, type OwnerInfo, type Owned } from '../ownership';
import type { RunFiles } from './files';

export type Emit = <N extends 'runs:event' | 'runs:status' | 'app:notice'>(name: N, payload: EventPayload<N>) => void;

/** Statuses of a run this process trains or has queued (it holds the run's lock). */
export const isBusy = (status: RunSummary['status']) => status === 'running' || status === 'queued';

export class RunsState {
  /** The workspace's runs by id (damaged ones and those training elsewhere included). */
  readonly runs = new Map<string, RunSummary>();
  /** The locks this process holds, by run; `releasing` while the last writes land before the lock goes. */
  private readonly owned = new Map<string, { lock: Owned; releasing?: Promise<void> }>();

  constructor(
    readonly files: RunFiles,
    readonly emit: Emit,
    /** Which studio this is (recorded in owner.json). */
    readonly app: OwnerInfo['app'] = 'unknown',
  ) {}

  /** Sets the run's status and message, saves run.json and tells the windows; a run that settles gives its lock back. */
  setStatus(run: RunSummary, status: RunSummary['status'], message?: string): void {
    run.status = status;
    run.message = message;
    this.files.persist(run);
    this.emit('runs:status', { runId: run.runId, status, message, epochsDone: run.epochsDone });
    if (!isBusy(status)) {
      this.files.dropProgress(run.runId);
      void this.letGo(run.runId);
    }
  }

  /** How many runs train now. */
  active(): number {
    let n = 0;
    for (const r of this.runs.values()) if (r.status === 'running') n++;
    return n;
  }

  /** Whether this process holds the run's lock (training, queued, or its last writes landing). */
  owns(runId: string): boolean {
    return this.owned.has(runId);
  }

  /**
   * Takes the run for this process before it trains (or waits in the queue); refuses with the owner
   * named when another process holds it. A lock whose owner is gone is taken over.
   */
  async claim(run: RunSummary, what: OwnerInfo['what'] = 'training'): Promise<void> {
    const held = this.owned.get(run.runId);
    if (held && !held.releasing) return;
    if (held?.releasing) await held.releasing;
    try {
      const lock = await takeOwnership(
        this.files.dir(run.runId),
        { app: this.app, what, ...('id' in run.dataset ? { dataset: run.dataset.id } : {}) },
        {
          refusal: (o) => runOwnedMessage(run.runId, o),
          onLost: (err) =>
            this.emit('app:notice', {
              level: 'warning',
              message: `Run ${run.runId}: another studio took over its lock (${err.message}); this studio may have stalled for several seconds. Stop the run here if it trains there too.`,
              at: Date.now(),
            }),
        },
      );
      this.owned.set(run.runId, { lock });
    } catch (err) {
      if (err instanceof OwnedElsewhere) throw new CallError('conflict', err.message);
      throw err;
    }
  }

  /** Gives the run's lock back once its run.json writes asked for so far have landed. */
  letGo(runId: string): Promise<void> {
    const held = this.owned.get(runId);
    if (!held) return Promise.resolve();
    if (held.releasing) return held.releasing;
    const releasing = this.files.afterWrites(runId, async () => {
      await held.lock.release();
      if (this.owned.get(runId) === held) this.owned.delete(runId);
    });
    held.releasing = releasing;
    return releasing;
  }

  /** Gives every lock back (the service closes). */
  letGoAll(): Promise<void> {
    return Promise.all([...this.owned.keys()].map((id) => this.letGo(id))).then(() => undefined);
  }
}
