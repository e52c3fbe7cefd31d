// Runs other processes write, live: every second the run folders this process does not own are
// looked at (the mtimes of run.json and progress.json, and whether a live lock says another studio
// trains the run); a change is read back and relayed as this process's own runs are — new epochs
// and the latest batch as `runs:event` (the curves grow, the progress bar moves), a new run or a
// changed status as `runs:status`. When the other studio's run
// ends its lock goes and the run becomes an ordinary one (completed, stopped, or interrupted when
// its owner was killed), as TensorBoard picks up a log folder another process writes.
import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../../contract';
import { ownerOf } from '../ownership';
import { PROGRESS_FILE } from './files';
import { reloadRun, runFolderIds } from './reload';
import type { RunsState } from './state';

/** How often the run folders are looked at (ms). */
export const WATCH_INTERVAL_MS = 1000;

export class RunWatcher {
  /** What each folder looked like at the last look: run.json's mtime and whether it trained elsewhere. */
  private readonly seen = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly state: RunsState,
    intervalMs = WATCH_INTERVAL_MS,
  ) {
    for (const id of state.runs.keys()) this.seen.set(id, this.look(id));
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private look(id: string): string {
    let mtime = -1;
    try {
      mtime = fs.statSync(path.join(this.state.files.dir(id), 'run.json')).mtimeMs;
    } catch {
      // no run.json (yet)
    }
    let progress = -1;
    try {
      progress = fs.statSync(path.join(this.state.files.dir(id), PROGRESS_FILE)).mtimeMs;
    } catch {
      // none: the run has not trained a batch yet, or has ended
    }
    const o = ownerOf(this.state.files.dir(id));
    return `${mtime}|${progress}|${o ? ('unknown' in o ? 'unknown' : o.what) : ''}`;
  }

  /** One look at every run folder (public for tests). */
  tick(): void {
    const { state } = this;
    let ids: string[];
    try {
      ids = runFolderIds(state.files);
    } catch {
      return; // the runs folder is gone or unreadable right now: the next look tries again
    }
    for (const id of ids) {
      if (state.owns(id)) continue; // this process trains it: the trainer's events say everything
      const known = state.runs.get(id);
      if (known && (known.status === 'running' || known.status === 'queued')) continue;
      const now = this.look(id);
      if (this.seen.get(id) === now) continue;
      this.seen.set(id, now);
      let fresh: RunSummary | undefined;
      try {
        fresh = reloadRun(state.files, id);
      } catch {
        continue; // a file replaced while read: the next look reads it again
      }
      if (!fresh || (!known && fresh.status === 'damaged')) continue; // a folder being made: listed once its run.json is there
      if (state.owns(id)) continue; // claimed while this look read it
      state.runs.set(id, fresh);
      if (!known) {
        this.announce(fresh);
        continue;
      }
      if (fresh.status === 'training-elsewhere') {
        this.relayEpochs(known, fresh);
        this.relayProgress(fresh);
      }
      if (known.status !== fresh.status || known.message !== fresh.message || known.epochsDone !== fresh.epochsDone)
        this.announce(fresh);
    }
  }

  /** The owner's latest batch (its progress.json) as the batch event its own window got. */
  private relayProgress(run: RunSummary): void {
    const batch = this.state.files.readProgress(run.runId);
    if (!batch || batch.epoch <= run.epochsDone) return; // an epoch already relayed whole
    this.state.emit('runs:event', { runId: run.runId, event: batch });
  }

  private announce(run: RunSummary): void {
    this.state.emit('runs:status', {
      runId: run.runId,
      status: run.status,
      message: run.message,
      epochsDone: run.epochsDone,
    });
  }

  /** The epochs another studio finished since the last look, as the epoch events its own window got. */
  private relayEpochs(before: RunSummary, now: RunSummary): void {
    const epochs = Number((now.config as { epochs?: unknown }).epochs) || now.epochsDone;
    const from = before.status === 'training-elsewhere' ? before.epochsDone : 0;
    for (let epoch = from + 1; epoch <= now.epochsDone; epoch++) {
      const loss = now.history.loss[epoch - 1];
      if (loss === undefined || loss === null) continue;
      const elapsedSec = now.elapsedSec ?? 0;
      const perEpoch = now.epochsDone ? elapsedSec / now.epochsDone : 0;
      this.state.emit('runs:event', {
        runId: now.runId,
        event: {
          type: 'epoch',
          epoch,
          epochs,
          loss,
          valLoss: now.history.valLoss[epoch - 1] ?? null,
          samplesPerSec: now.samplesPerSec ?? 0,
          etaSec: Math.max(0, (epochs - epoch) * perEpoch),
          elapsedSec: epoch === now.epochsDone ? elapsedSec : perEpoch * epoch,
        },
      });
    }
  }
}
