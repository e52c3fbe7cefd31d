// What `ae-studio train` prints: the progress bar or one JSON object per line while the run trains,
// and the end (the final losses, the measures per split and how to continue).
import path from 'node:path';
import type { InspectionFile } from '../engine/inspect/calibration';
import type { EndMetrics, RunEventPayload, RunStatusPayload, RunSummary } from '../contract';

/** What `train` prints to: stdout lines, and whether stdout is a terminal (progress bar). */
export interface TrainIO {
  out: (s: string) => void;
  /** Rewrites the current terminal line (progress bar); absent when stdout is not a terminal. */
  status?: (s: string) => void;
  err: (s: string) => void;
}

export const fmtNum = (n: number) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : '–';
export const fmtLoss = (n: number | null | undefined) =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : n < 0.001 ? n.toExponential(3) : n.toFixed(4);
export function fmtDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '–';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** One progress line: `epoch 2/5 [#####-----] 48% · batch 30/47 · loss 0.0312 · 12,345 samples/s · ETA 0:23`. */
export function progressLine(
  e: {
    epoch: number;
    epochs: number;
    batch: number;
    batches: number;
    loss: number;
    samplesPerSec: number;
    etaSec: number;
  },
  width = 24,
): string {
  const frac = Math.min(1, Math.max(0, (e.epoch - 1 + e.batch / Math.max(1, e.batches)) / Math.max(1, e.epochs)));
  const filled = Math.round(frac * width);
  return `epoch ${e.epoch}/${e.epochs} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}% · batch ${e.batch}/${e.batches} · loss ${fmtLoss(e.loss)} · ${fmtNum(e.samplesPerSec)} samples/s · ETA ${fmtDuration(e.etaSec)}`;
}

const SPLITS = [
  ['train', 'training'],
  ['val', 'validation'],
  ['test', 'test'],
] as const;

/** The end-of-run measures per split without the per-label lists (`ae-studio runs --json` has those). */
export function endMetricsBrief(
  m: EndMetrics,
): Record<string, { count: number; loss: number; mse: number; psnr: number; ssim: number } | null> {
  return Object.fromEntries(
    SPLITS.map(([k]) => [
      k,
      m[k] ? { count: m[k].count, loss: m[k].loss, mse: m[k].mse, psnr: m[k].psnr, ssim: m[k].ssim } : null,
    ]),
  );
}

/** The end-of-run measures as a small table: training, validation and (when the run kept one) test images side by side. */
export function endMetricsTable(m: EndMetrics): string[] {
  const rows = SPLITS.flatMap(([k, title]) => (m[k] ? [[title, m[k]] as const] : []));
  return [
    `  ${'measured on'.padEnd(12)}${'images'.padStart(8)}${'loss'.padStart(10)}${'MSE'.padStart(10)}${'PSNR'.padStart(9)}${'SSIM'.padStart(7)}`,
    ...rows.map(
      ([title, s]) =>
        `  ${title.padEnd(12)}${fmtNum(s.count).padStart(8)}${fmtLoss(s.loss).padStart(10)}${fmtLoss(s.mse).padStart(10)}${`${s.psnr.toFixed(2)} dB`.padStart(9)}${s.ssim.toFixed(3).padStart(7)}`,
    ),
  ];
}

type EpochEvent = Extract<RunEventPayload['event'], { type: 'epoch' }>;

/** Prints a run's events as they come: batches (throttled), epochs, a slower step, an early stop. */
export class TrainProgress {
  /** The last epoch event (its epochs and speed go into the end). */
  lastEpoch: EpochEvent | undefined;
  private lastBatchAt = 0;
  private statusShown = false;

  constructor(
    private readonly io: TrainIO,
    private readonly json: boolean,
    /** The run's epochs before its first epoch event says so (0 when unknown: a resumed run). */
    private readonly plannedEpochs: number,
  ) {}

  private line(obj: unknown): void {
    this.io.out(JSON.stringify(obj));
  }

  /** Clears the progress bar (before a line is printed under it). */
  clearStatus(): void {
    if (this.statusShown && this.io.status) this.io.status('');
    this.statusShown = false;
  }

  onEvent(p: RunEventPayload): void {
    const { io } = this;
    const e = p.event;
    if (e.type === 'batch') {
      const now = Date.now();
      if (this.json) {
        if (now - this.lastBatchAt >= 1000) {
          this.lastBatchAt = now;
          this.line({ runId: p.runId, ...e });
        }
      } else if (io.status && now - this.lastBatchAt >= 100) {
        this.lastBatchAt = now;
        io.status(progressLine({ ...e, epochs: this.lastEpoch?.epochs ?? this.plannedEpochs }));
        this.statusShown = true;
      }
    } else if (e.type === 'epoch') {
      this.lastEpoch = e;
      if (this.json) this.line({ runId: p.runId, ...e });
      else {
        this.clearStatus();
        io.out(
          `epoch ${e.epoch}/${e.epochs}  loss ${fmtLoss(e.loss)}  val ${fmtLoss(e.valLoss)}  ${fmtNum(e.samplesPerSec)} samples/s  ${fmtDuration(e.elapsedSec)} elapsed  ETA ${fmtDuration(e.etaSec)}`,
        );
      }
    } else if (e.type === 'step') {
      if (this.json) this.line({ runId: p.runId, ...e });
      else if (e.fallback) {
        this.clearStatus();
        io.err(
          `Note: this run trains ${e.step === 'tfjs' ? "with tfjs's own (much slower) step" : 'kernel by kernel instead of as one TensorFlow graph (slower)'}: ${e.reason ?? 'no reason given'}.`,
        );
      }
    } else if (e.type === 'stopped' && e.reason === 'early-stopping' && !this.json) {
      this.clearStatus();
      io.out(e.message);
    }
  }
}

/** Prints how the run ended and returns the exit code (0 completed or stopped, 1 failed, 130 stopped with Ctrl-C). */
export function reportEnd(
  io: TrainIO,
  o: {
    workspace: string;
    json: boolean;
    stoppedByUser: boolean;
    startedAt: number;
    inspection?: { file: InspectionFile; lines: string[] };
  },
  end: RunStatusPayload,
  run: RunSummary | undefined,
  lastEpoch: EpochEvent | undefined,
): number {
  const ws = o.workspace;
  const runId = end.runId;
  const loss = run?.history.loss.at(-1) ?? null;
  const valLoss = run?.history.valLoss.at(-1) ?? null;
  const resumeCmd = `ae-studio train --workspace ${ws} --resume ${runId}`;
  const canResume = end.status !== 'completed' && end.epochsDone > 0;
  if (o.json) {
    io.out(
      JSON.stringify({
        type: 'end',
        runId,
        status: end.status,
        message: end.message ?? null,
        epochsDone: end.epochsDone,
        loss,
        valLoss,
        samplesPerSec: lastEpoch?.samplesPerSec ?? null,
        elapsedSec: (Date.now() - o.startedAt) / 1000,
        runDir: path.join(ws, 'runs', runId),
        ...(run?.metrics ? { metrics: endMetricsBrief(run.metrics) } : {}),
        ...(o.inspection
          ? {
              inspection: {
                threshold: o.inspection.file.threshold,
                settings: o.inspection.file.settings,
                measured: o.inspection.file.measured,
              },
            }
          : {}),
        ...(end.status !== 'completed' ? { resume: resumeCmd } : {}),
      }),
    );
  } else if (end.status === 'completed') {
    io.out(
      `Done: ${runId} trained ${end.epochsDone} epoch${end.epochsDone === 1 ? '' : 's'}, loss ${fmtLoss(loss)}, validation loss ${fmtLoss(valLoss)}.${end.message ? ` ${end.message}` : ''}`,
    );
    if (run?.metrics) for (const line of endMetricsTable(run.metrics)) io.out(line);
    if (o.inspection) {
      for (const line of o.inspection.lines) io.out(line);
      io.out(`Inspect pictures with: ae-studio inspect --workspace ${ws} --run ${runId} PICTURES… --maps maps/`);
    }
    io.out(
      `The model is in ${path.join(ws, 'runs', runId, 'model')}; export it with: ae-studio export --workspace ${ws} --run ${runId} --format onnx --out model.onnx`,
    );
  } else if (end.status === 'stopped') {
    io.out(
      `Stopped: ${runId} after epoch ${end.epochsDone}.${canResume ? ` The checkpoint of epoch ${end.epochsDone} is kept.` : ' No epoch had finished, so resuming starts it from the beginning.'}`,
    );
    io.out(`Continue with: ${resumeCmd}`);
  } else {
    io.err(`The run ${runId} failed: ${end.message ?? 'no reason given'}`);
    if (canResume) io.err(`Continue from epoch ${end.epochsDone} with: ${resumeCmd}`);
  }
  return end.status === 'completed'
    ? 0
    : end.status === 'stopped' && o.stoppedByUser
      ? 130
      : end.status === 'stopped'
        ? 0
        : 1;
}
