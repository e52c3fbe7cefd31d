// A run's files as the host keeps them: run.json (the summary, one atomic write at a time per run),
// preview.json (the latest preview, written when the run ends), progress.json (the latest batch,
// once a second while it trains, for other studios), batch-loss.json (the batch losses thinned to
// at most 2,000 points, written at each epoch's end and when the run ends) and what the last
// checkpoint says.
import fs from 'node:fs';
import { z } from 'zod';
import path from 'node:path';
import {
  BATCH_LOSS_MAX_POINTS,
  RunBatchLoss,
  RunCheckpointState,
  RunEventPayload,
  RunPreview,
  type RunSummary,
} from '../../contract';
import { readableDir, writeFileAtomicAsync } from '../../fs-safety/atomic';
import type { Emit } from './state';

/** A batch event as progress.json holds it. */
export type RunBatch = Extract<RunEventPayload['event'], { type: 'batch' }>;

export const PROGRESS_FILE = 'progress.json';
export const BATCH_LOSS_FILE = 'batch-loss.json';

/**
 * A run's batch losses thinned as they come: every `stride`-th batch is kept; when the series
 * passes `max` points every other point goes and the stride doubles, so the points stay evenly
 * spread over the whole run and never exceed `max`.
 */
export class BatchLossSeries {
  x: number[] = [];
  y: number[] = [];
  stride = 1;
  private seen = 0;

  constructor(private readonly max = BATCH_LOSS_MAX_POINTS) {}

  /** A series read back (e.g. a resumed run's), keeping only the batches up to `upTo` epochs (those after the checkpoint train again). */
  static from(saved: RunBatchLoss & { stride?: number }, upTo: number, max = BATCH_LOSS_MAX_POINTS): BatchLossSeries {
    const s = new BatchLossSeries(max);
    const n = saved.x.findIndex((x) => x > upTo);
    s.x = n < 0 ? [...saved.x] : saved.x.slice(0, n);
    s.y = saved.y.slice(0, s.x.length);
    // the stride the series had reached, so the thinning goes on evenly
    s.stride = Math.max(1, saved.stride ?? 1);
    return s;
  }

  push(x: number, y: number): void {
    if (this.seen++ % this.stride !== 0) return;
    this.x.push(x);
    this.y.push(y);
    if (this.x.length > this.max) {
      this.x = this.x.filter((_, i) => i % 2 === 0);
      this.y = this.y.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  toJSON(): RunBatchLoss & { stride: number } {
    return { x: this.x, y: this.y, stride: this.stride };
  }
}
const PROGRESS_EVERY_MS = 1000;

export class RunFiles {
  /** The write chain per run: each write starts after the one before it landed. */
  private readonly writes = new Map<string, Promise<void>>();
  /** Runs whose failed run.json write the user has heard of (once per run). */
  private readonly warned = new Set<string>();
  /** The latest reconstruction preview of each run, kept in memory while it trains. */
  private readonly previews = new Map<string, RunPreview>();
  /** The batch losses of each run this process trains. */
  private readonly batchLosses = new Map<string, BatchLossSeries>();

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

  /**
   * Starts the run's batch-loss series: empty for a run that starts from scratch; a resumed run's
   * goes on from batch-loss.json, up to the epoch its checkpoint saved.
   */
  startBatchLoss(runId: string, resumeAfterEpoch: number | null): void {
    const saved = resumeAfterEpoch === null ? null : this.readBatchLossFile(runId);
    this.batchLosses.set(runId, saved ? BatchLossSeries.from(saved, resumeAfterEpoch ?? 0) : new BatchLossSeries());
  }

  /** Adds one batch to the run's series (kept in memory; written by `saveBatchLoss`). */
  addBatch(runId: string, batch: RunBatch): void {
    let s = this.batchLosses.get(runId);
    if (!s) this.batchLosses.set(runId, (s = new BatchLossSeries()));
    s.push(batch.epoch - 1 + batch.batch / batch.batches, batch.loss);
  }

  /** Writes the run's series to <run>/batch-loss.json (at an epoch's end and when the run ends). */
  saveBatchLoss(runId: string): void {
    const s = this.batchLosses.get(runId);
    if (!s) return;
    const data = JSON.stringify(s);
    this.enqueue(
      runId,
      () => writeFileAtomicAsync(path.join(this.dir(runId), BATCH_LOSS_FILE), data),
      () => undefined, // the chart loses its batch line after a reload; training goes on
    );
  }

  private readBatchLossFile(runId: string): (RunBatchLoss & { stride?: number }) | null {
    try {
      const raw: unknown = JSON.parse(fs.readFileSync(path.join(this.dir(runId), BATCH_LOSS_FILE), 'utf8'));
      const p = RunBatchLoss.extend({ stride: z.number().int().min(1).optional() }).safeParse(raw);
      return p.success && p.data.x.length === p.data.y.length ? p.data : null;
    } catch {
      return null;
    }
  }

  /** The run's batch losses: the series in memory, else batch-loss.json, else none. */
  readBatchLoss(runId: string): RunBatchLoss {
    const s = this.batchLosses.get(runId);
    if (s) return { x: [...s.x], y: [...s.y] };
    const saved = this.readBatchLossFile(runId);
    return saved ? { x: saved.x, y: saved.y } : { x: [], y: [] };
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
