// What the units of the runs service share: the session's runs, their files, and the one way a
// run's status changes (saved and announced).
import type { EventPayload, RunSummary } from '../../contract';
import type { RunFiles } from './files';

export type Emit = <N extends 'runs:event' | 'runs:status' | 'app:notice'>(name: N, payload: EventPayload<N>) => void;

export class RunsState {
  /** The workspace's runs by id (damaged ones included). */
  readonly runs = new Map<string, RunSummary>();

  constructor(
    readonly files: RunFiles,
    readonly emit: Emit,
  ) {}

  /** Sets the run's status and message, saves run.json and tells the windows. */
  setStatus(run: RunSummary, status: RunSummary['status'], message?: string): void {
    run.status = status;
    run.message = message;
    this.files.persist(run);
    this.emit('runs:status', { runId: run.runId, status, message, epochsDone: run.epochsDone });
  }

  /** How many runs train now. */
  active(): number {
    let n = 0;
    for (const r of this.runs.values()) if (r.status === 'running') n++;
    return n;
  }
}
