// Watching a cluster job from the studio's side while it trains elsewhere (a job folder on a
// shared filesystem): job.json, and what train.py writes into out/ — progress.json (rewritten
// atomically when it starts, after every epoch and at the end), metrics.jsonl (one line per
// epoch), done.json. Read-only, no tfjs; every file is read through the same guards as an import
// (regular files inside the folder, size caps, schemas). A metrics line being written (torn) is
// skipped until it is complete.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { fileInside as fileInsideDir, readJsonCapped } from '../fs-safety/safe-read';
import { DoneJson, EpochRecord, JOB_FILES, JobJson, ProgressJson, type EpochRecord as EpochRecordT } from './format';

const MiB = 2 ** 20;

/** A job folder that cannot be watched (not a job folder, a damaged file…). */
export class JobWatchError extends Error {
  override readonly name = 'JobWatchError';
}

export interface JobProgress {
  dir: string;
  name: string;
  /** waiting: nothing in out/ yet; training: started, not finished; done; failed (train.py said so). */
  status: 'waiting' | 'training' | 'done' | 'failed';
  /** Epochs trained in the studio before the job. */
  startEpoch: number;
  epochsDone: number;
  targetEpoch: number;
  /** The epochs the job trained so far (metrics.jsonl). */
  epochs: EpochRecordT[];
  /** Seconds per epoch (wall clock between epochs when there are two, else the training time of the last one). */
  secondsPerEpoch: number | null;
  /** Seconds left at that pace; null before the first epoch, 0 when done. */
  etaSec: number | null;
  /** Last progress.json time (ISO), when there is one. */
  updatedAt: string | null;
  message: string | null;
  done?: DoneJson;
}

const fail = (m: string) => new JobWatchError(m);

function readJson<S extends z.ZodType>(
  dir: string,
  rel: string,
  maxBytes: number,
  schema: S,
  what: string,
): z.infer<S> {
  const raw = readJsonCapped(fileInsideDir(dir, rel, what, fail), maxBytes, `${what} (${rel})`, fail);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new JobWatchError(
      `${what} (${rel}) is not what the studio expects: ${i.path.join('.') || '(top level)'}: ${i.message}`,
    );
  }
  return parsed.data;
}

/** The complete lines of metrics.jsonl (a torn last line, still being written, is left for the next read). */
function readMetrics(dir: string): EpochRecordT[] {
  if (!fs.existsSync(path.join(dir, JOB_FILES.metrics))) return [];
  const file = fileInsideDir(dir, JOB_FILES.metrics, 'metrics.jsonl', fail);
  const st = fs.statSync(file);
  if (st.size > 256 * MiB)
    throw new JobWatchError(
      `${JOB_FILES.metrics} is ${st.size.toLocaleString('en-US')} bytes, more than a job writes.`,
    );
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop();
  const out: EpochRecordT[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new JobWatchError(`${JOB_FILES.metrics} line ${i + 1} is not JSON.`);
    }
    const p = EpochRecord.safeParse(raw);
    if (!p.success)
      throw new JobWatchError(
        `${JOB_FILES.metrics} line ${i + 1} is not an epoch record: ${p.error.issues[0].path.join('.')}: ${p.error.issues[0].message}`,
      );
    out.push(p.data);
  }
  return out;
}

/** Where the job in `dir` stands now. Throws JobWatchError when `dir` is not a job folder or a file is damaged. */
export function readJobProgress(dir: string): JobProgress {
  dir = path.resolve(dir);
  if (!fs.existsSync(path.join(dir, JOB_FILES.job)))
    throw new JobWatchError(
      `${dir} has no job.json: it is not a cluster job folder written by 'ae-studio job export'.`,
    );
  const job = readJson(dir, JOB_FILES.job, 16 * MiB, JobJson, 'job.json');
  const progress = fs.existsSync(path.join(dir, JOB_FILES.progress))
    ? readJson(dir, JOB_FILES.progress, MiB, ProgressJson, 'progress.json')
    : undefined;
  let done = fs.existsSync(path.join(dir, JOB_FILES.done))
    ? readJson(dir, JOB_FILES.done, MiB, DoneJson, 'done.json')
    : undefined;
  const epochs = readMetrics(dir);
  const last = epochs.at(-1);
  const epochsDone = Math.max(job.startEpoch, progress?.epochsDone ?? 0, last?.epoch ?? 0);
  const targetEpoch = progress?.targetEpoch ?? job.startEpoch + job.epochs;
  if (done && done.epochsDone !== epochsDone) done = undefined; // a later launch trains further
  const status: JobProgress['status'] = done
    ? 'done'
    : progress?.status === 'failed'
      ? 'failed'
      : progress || epochs.length
        ? 'training'
        : 'waiting';
  // pace: wall clock between the last epochs of this launch (validation and checkpoints included), else the last epoch's training time
  let secondsPerEpoch: number | null = null;
  const recent = epochs.slice(-4).filter((e) => e.restart === last?.restart && e.world_size === last?.world_size);
  if (recent.length >= 2) {
    const t0 = Date.parse(recent[0].time);
    const t1 = Date.parse(recent[recent.length - 1].time);
    if (Number.isFinite(t0) && Number.isFinite(t1) && t1 > t0) secondsPerEpoch = (t1 - t0) / 1000 / (recent.length - 1);
  }
  if (secondsPerEpoch === null && last) secondsPerEpoch = last.seconds;
  const left = Math.max(0, targetEpoch - epochsDone);
  return {
    dir,
    name: job.name,
    status,
    startEpoch: job.startEpoch,
    epochsDone,
    targetEpoch,
    epochs,
    secondsPerEpoch,
    etaSec: status === 'done' ? 0 : secondsPerEpoch === null ? null : left * secondsPerEpoch,
    updatedAt: progress?.time ?? last?.time ?? null,
    message: done?.message ?? progress?.message ?? null,
    ...(done ? { done } : {}),
  };
}

/** Seconds in words: 45 s, 3 min 20 s, 2 h 05 min. */
export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A text sparkline of a loss curve (lower is lower), at most `width` characters. */
export function sparkline(values: number[], width = 24): string {
  if (!values.length) return '';
  const bars = '▁▂▃▄▅▆▇█';
  const step = Math.max(1, Math.ceil(values.length / width));
  const pts: number[] = [];
  for (let i = 0; i < values.length; i += step) pts.push(values[Math.min(values.length - 1, i + step - 1)]);
  const lo = Math.min(...pts);
  const hi = Math.max(...pts);
  return pts.map((v) => bars[hi > lo ? Math.round(((v - lo) / (hi - lo)) * (bars.length - 1)) : 0]).join('');
}

/** One line for a terminal: epoch, losses with the curve so far, speed, ETA. */
export function describeProgress(p: JobProgress): string {
  if (p.status === 'waiting') return `job '${p.name}': not started yet (no out/ in ${p.dir}); waiting for launch.sh.`;
  const last = p.epochs.at(-1);
  const parts = [`epoch ${p.epochsDone}/${p.targetEpoch}`];
  if (last) {
    const losses = p.epochs.map((e) => e.train_loss);
    const first = p.epochs[0];
    parts.push(
      `loss ${last.train_loss.toFixed(5)}${p.epochs.length > 1 ? ` (${first.train_loss.toFixed(5)} at epoch ${first.epoch}, best ${Math.min(...losses).toFixed(5)}) ${sparkline(losses)}` : ''}`,
    );
    if (last.val_loss !== null) parts.push(`validation ${last.val_loss.toFixed(5)}`);
    parts.push(
      `${Math.round(last.samples_per_sec).toLocaleString('en-US')} samples/s on ${last.world_size} worker${last.world_size === 1 ? '' : 's'}${last.restart ? ` (restart ${last.restart})` : ''}`,
    );
  }
  if (p.status === 'done') parts.push('finished');
  else if (p.status === 'failed') parts.push(`failed${p.message ? `: ${p.message}` : ''}`);
  else parts.push(p.etaSec === null ? 'ETA after the first epoch' : `ETA ${formatDuration(p.etaSec)}`);
  return parts.join(', ');
}
