// A run's files as the host keeps them: run.json (the summary, one atomic write at a time per run),
// preview.json (the latest preview, written when the run ends), progress.json (the latest batch,
// once a second while it trains, for other studios) and what the last checkpoint says.
import fs from 'node:fs';
import path from 'node:path';
import { RunCheckpointState, RunEventPayload, RunPreview, type RunSummary } from '../../contract';
import { readableDir, writeFileAtomicAsync } from '../../fs-safety/atomic';
import type { Emit } from './state';

/** A batch event as progress.json holds it. */
export type RunBatch = Extract<RunEventPayload['event'], { type: 'batch' }>;

export const PROGRESS_FILE = 'progress.json';
const PROGRESS_EVERY_MS = 1000;

export class RunFiles {
  /** The write chain per run: each write starts after the one before it landed. */
  private readonly writes = new Map<string, Promise<void>>();
  /** Runs whose failed run.json write the user has heard of (once per run). */
  private readonly warned = new Set<string>();
  /** The latest reconstruction preview of each run, kept in memory while it trains. */
  private readonly previews = new Map<string, RunPreview>();

  constructor(
    readonly workspaceDir: string,
    private readonly emit: Emit,
  ) {}

  /** `<workspace>/runs`. */
  get root(): string {
    return path.join(this.workspaceDir, 'runs');
  }

  dir(runId: string): string {
    return path.join(this.root, runId);
  }

  private enqueue(runId: string, write: () => Promise<void>, onError: (err: NodeJS.ErrnoException) => void): void {
    const prev = this.writes.get(runId) ?? Promise.resolve();
    this.writes.set(runId, prev.then(write).catch(onError));
  }

  /** Saves the run's summary in <run>/run.json, after any write of the run still under way. */
  persist(run: RunSummary): void {
    const file = path.join(this.dir(run.runId), 'run.json');
    const data = JSON.stringify(run);
    this.enqueue(
      run.runId,
      () => writeFileAtomicAsync(file, data), // a full disk: run.json keeps its last good version
      (err) => {
        // the run goes on and the next change writes run.json again; the user hears of it once per run
        if (this.warned.has(run.runId)) return;
        this.warned.add(run.runId);
        const why = err.code === 'ENOSPC' || err.code === 'EDQUOT' ? 'the disk is full' : (err.code ?? err.message);
        this.emit('app:notice', {
          level: 'warning',
          message: `The summary of run ${run.runId} (run.json) could not be saved: ${why}. Training goes on; its checkpoints are separate, and run.json is written again at the next epoch.`,
          at: Date.now(),
        });
      },
    );
  }

  /** When each run's progress.json was last written (ms), to write it at most once a second. */
  private readonly progressAt = new Map<string, number>();

  /**
   * Writes the run's latest batch to <run>/progress.json, at most once a second, for other studios
   * that follow the run live (watch.ts); a failed write only means they see less often.
   */
  saveProgress(runId: string, batch: RunBatch): void {
    const now = Date.now();
    if (now - (this.progressAt.get(runId) ?? 0) < PROGRESS_EVERY_MS) return;
    this.progressAt.set(runId, now);
    const file = path.join(this.dir(runId), PROGRESS_FILE);
    this.enqueue(
      runId,
      () => writeFileAtomicAsync(file, JSON.stringify(batch)),
      () => undefined,
    );
  }

  /** Removes progress.json when the run ends (it says only how far a training run is). */
  dropProgress(runId: string): void {
    this.progressAt.delete(runId);
    const file = path.join(this.dir(runId), PROGRESS_FILE);
    this.enqueue(
      runId,
      () => fs.promises.rm(file, { force: true }),
      () => undefined,
    );
  }

  /** The latest batch another process wrote for the run, or undefined. */
  readProgress(runId: string): RunBatch | undefined {
    try {
      const p = RunEventPayload.shape.event.safeParse(
        JSON.parse(fs.readFileSync(path.join(this.dir(runId), PROGRESS_FILE), 'utf8')),
      );
      return p.success && p.data.type === 'batch' ? p.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keeps the run's latest preview in memory (written to disk by `savePreview`). */
  keepPreview(runId: string, preview: RunPreview): void {
    this.previews.set(runId, preview);
  }

  /** Writes the kept preview to <run>/preview.json, so a finished run still shows it after a reload. */
  savePreview(runId: string): void {
    const p = this.previews.get(runId);
    if (!p) return;
    const file = path.join(this.dir(runId), 'preview.json');
    this.enqueue(
      runId,
      () => writeFileAtomicAsync(file, JSON.stringify(p)),
      () => undefined, // no preview kept is not worth failing a run over
    );
  }

  /** The run's latest preview: the one in memory, else preview.json, else null. */
  readPreview(runId: string): RunPreview | null {
    const inMemory = this.previews.get(runId);
    if (inMemory) return inMemory;
    try {
      const p = RunPreview.safeParse(JSON.parse(fs.readFileSync(path.join(this.dir(runId), 'preview.json'), 'utf8')));
      return p.success ? p.data : null;
    } catch {
      return null;
    }
  }

  /** Takes epochs and history from the run's last checkpoint on disk (the truth after a failure). */
  fromCheckpoint(run: RunSummary): void {
    try {
      const ckpt = readableDir(path.join(this.dir(run.runId), 'checkpoint'));
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

  hasCheckpoint(runId: string): boolean {
    return !!readableDir(path.join(this.dir(runId), 'checkpoint'));
  }

  hasModel(runId: string): boolean {
    return fs.existsSync(path.join(this.dir(runId), 'model', 'encoder', 'model.json'));
  }

  /** Runs `after` once the run's writes asked for so far have landed (in the run's write chain). */
  afterWrites(runId: string, after: () => Promise<void>): Promise<void> {
    this.enqueue(runId, after, () => undefined);
    return this.writes.get(runId) as Promise<void>;
  }

  /** Resolves when every write asked for so far has landed. */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }
}
