// Training runs over the contract: start / stop / resume / list, and the events a run
// streams. Preview images travel as base64 uint8 pixels so they survive JSON and structured clone.
import { z } from 'zod';
import { ModelConfig } from './model-config';

export const RunId = z.string().regex(/^[a-z0-9-]{1,64}$/, 'a run id is lower-case letters, digits and dashes');

/** Where a run's images come from: the built-in MNIST digits, or a dataset of the workspace's store. */
export const RunDataset = z.union([
  z
    .object({
      builtin: z.enum(['mnist']),
      /** How many of the 10,000 digits to use. */
      count: z.number().int().min(100).max(10_000).default(10_000),
    })
    .strict(),
  z
    .object({
      /** A dataset in the workspace's store. */
      id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
      /** Use only the first N images (all when absent). */
      count: z.number().int().min(10).max(10_000_000).optional(),
    })
    .strict(),
]);

/** What a run imported from a cluster job remembers about how it trained there (shown in the Train view). */
export const ClusterJobInfo = z.object({
  /** The job folder it was imported from. */
  from: z.string(),
  /** The job's name (the studio run it was exported from, or the model kind). */
  name: z.string(),
  /** Epochs the studio had trained before the job took over (0 for a fresh job). */
  startEpoch: z.number().int().nonnegative(),
  /** One entry per epoch the cluster trained. */
  epochs: z.array(
    z.object({
      epoch: z.number().int(),
      /** Training images per second over all workers. */
      samplesPerSec: z.number(),
      /** How many processes (torchrun workers) trained this epoch. */
      worldSize: z.number().int(),
      seconds: z.number(),
      /** torchrun's restart count when this epoch ran (0 = first start). */
      restart: z.number().int(),
    }),
  ),
  importedAt: z.number(),
});
export type ClusterJobInfo = z.infer<typeof ClusterJobInfo>;

/**
 * `queued`: waiting for a free training slot; `damaged`: its run.json could not be read (listed, never touched);
 * `training-elsewhere`: another process (a second studio, serve mode, the CLI) owns the run and trains it — this one
 * only shows it, live, and refuses to change it (never stored in run.json).
 */
export const RunStatus = z.enum([
  'queued',
  'running',
  'completed',
  'stopped',
  'failed',
  'damaged',
  'training-elsewhere',
]);

/**
 * Which training step a run uses, fastest first: `graph` (one TensorFlow graph per step), `kernels`
 * (the same hand-written step, kernel by kernel), `tfjs` (tfjs's own optimizer). `reason` says why
 * not a faster one; `fallback` is true when that was not asked for (a notice tells the user).
 */
export const TrainingStepInfo = z.object({
  step: z.enum(['graph', 'kernels', 'tfjs']),
  reason: z.string().nullable(),
  fallback: z.boolean(),
});
export type TrainingStepInfo = z.infer<typeof TrainingStepInfo>;

/** A run's losses per epoch: the training loss and the validation loss (null without a validation split). */
export const RunHistory = z.object({ loss: z.array(z.number()), valLoss: z.array(z.number().nullable()) });
export type RunHistory = z.infer<typeof RunHistory>;

/** A loss as JSON keeps it: NaN and ±Infinity are written as null and read back as NaN. */
const storedLoss = z
  .number()
  .nullable()
  .transform((v) => v ?? Number.NaN);

/** A RunHistory as a file holds it (a NaN loss was written as null and comes back as NaN). */
export const StoredRunHistory = z.object({ loss: z.array(storedLoss), valLoss: z.array(z.number().nullable()) });

/** A studio run's `checkpoint/state.json`: where training stands after the last saved epoch (read when resuming and after a failure). */
export const RunCheckpointState = z
  .object({
    epochsDone: z.number().int().min(0),
    history: StoredRunHistory,
    bestValLoss: z.number().nullable(),
    sinceBest: z.number().int().min(0),
    step: z.number().int().min(0),
  })
  .loose();
export type RunCheckpointState = z.infer<typeof RunCheckpointState>;

/** Reconstruction quality of one split of a finished run (measured in the trainer). */
export const SplitMetrics = z.object({
  count: z.number().int(),
  /** The training objective (with the final β). */
  loss: z.number(),
  mse: z.number(),
  /** Mean per-image PSNR in dB (capped at 100 for perfect images). */
  psnr: z.number(),
  ssim: z.number(),
  /** Per label: images and mean MSE (labelled datasets only). */
  perLabel: z.array(z.object({ label: z.number().int(), count: z.number().int(), mse: z.number() })).optional(),
});
export type SplitMetrics = z.infer<typeof SplitMetrics>;

/** A finished run measured once on its training, validation and (optional) test images. */
export const EndMetrics = z.object({
  /** The training images (the first 2,000 of them on big datasets, to keep the end of a run short). */
  train: SplitMetrics,
  val: SplitMetrics.nullable(),
  /** The test split, when the config asks for one: never trained on nor used for early stopping. */
  test: SplitMetrics.nullable(),
  /** Training images per label, after any labels left out (`excludeLabels`), for imbalanced datasets. */
  trainLabelCounts: z.array(z.object({ label: z.number().int(), count: z.number().int() })).optional(),
});
export type EndMetrics = z.infer<typeof EndMetrics>;

/** How a run ended, as the engine returns it and the trainer reports it (`run-end`). */
export const RunResult = z.object({
  status: z.enum(['completed', 'stopped', 'failed']),
  epochsDone: z.number().int().min(0),
  bestValLoss: z.number().nullable(),
  history: RunHistory,
  message: z.string().optional(),
  /** The training step the run used last. */
  step: TrainingStepInfo.optional(),
  metrics: EndMetrics.optional(),
});
export type RunResult = z.infer<typeof RunResult>;

export const RunSummary = z.object({
  runId: RunId,
  status: RunStatus,
  /** The run's config, every default filled in; null for a `damaged` run (its run.json could not be read). */
  config: ModelConfig.nullable(),
  /** For a `damaged` run (run.json unreadable) a placeholder `{ id: 'unknown' }`; such a run is never trained or opened. */
  dataset: RunDataset,
  epochsDone: z.number().int(),
  history: RunHistory,
  message: z.string().optional(),
  startedAt: z.number(),
  /** End-of-run metrics per split (completed runs). */
  metrics: EndMetrics.optional(),
  /** The training step of the run's latest session (recorded when its first batch ran). */
  step: TrainingStepInfo.optional(),
  /** Set on a run imported from a cluster job: how it trained there (jobs.ts). */
  cluster: ClusterJobInfo.optional(),
  /** Decided by the host from the run folder (runs:list): the run has a trained model the Gallery, Export and evaluation can use. */
  hasModel: z.boolean().optional(),
  /**
   * Decided by the host (runs:list): whether Resume is possible and where it continues — `checkpoint`
   * (after the last saved epoch), `model` (an imported model trains further from its weights) or
   * `start` (no epoch was saved: the run starts over). Absent when the run cannot be resumed.
   */
  resume: z.enum(['checkpoint', 'model', 'start']).optional(),
  /** The user's name for the run (shown instead of its id) and a note. */
  name: z.string().optional(),
  note: z.string().optional(),
  /** Training speed of the last epoch, kept so a finished run still shows it after a reload. */
  samplesPerSec: z.number().optional(),
  /** Seconds the run has trained so far, every session of it (a stopped and resumed run counts both parts). */
  elapsedSec: z.number().optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

/**
 * `run.json` as the host wrote it (losses that were NaN come back as NaN). Its config is parsed with
 * the contract's schema, so a config written before a setting existed gets that setting's default.
 */
export const StoredRunSummary = RunSummary.extend({ config: ModelConfig, history: StoredRunHistory });
export type StoredRunSummary = z.infer<typeof StoredRunSummary>;

const RunName = z.string().trim().min(1).max(120);
const RunNote = z.string().max(2000);

const Preview = z.object({
  type: z.literal('preview'),
  epoch: z.number(),
  batch: z.number(),
  width: z.number(),
  height: z.number(),
  channels: z.number(),
  /** base64 of uint8 pixels, one string per image. */
  originals: z.array(z.string()),
  noisy: z.array(z.string()),
  reconstructions: z.array(z.string()),
});

export const RunEventPayload = z.object({
  runId: RunId,
  event: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('batch'),
      epoch: z.number(),
      batch: z.number(),
      batches: z.number(),
      loss: z.number(),
      samplesPerSec: z.number(),
      etaSec: z.number(),
    }),
    z.object({
      type: z.literal('epoch'),
      epoch: z.number(),
      epochs: z.number(),
      loss: z.number(),
      valLoss: z.number().nullable(),
      samplesPerSec: z.number(),
      etaSec: z.number(),
      elapsedSec: z.number(),
    }),
    Preview,
    z.object({ type: z.literal('checkpoint'), epoch: z.number(), path: z.string() }),
    z.object({ type: z.literal('metrics'), metrics: EndMetrics }),
    z.object({
      type: z.literal('stopped'),
      reason: z.enum(['user', 'early-stopping', 'nan', 'done']),
      message: z.string(),
    }),
    TrainingStepInfo.extend({ type: z.literal('step') }),
  ]),
});
export type RunEventPayload = z.infer<typeof RunEventPayload>;
/** A run's latest preview (also what `<run>/preview.json` holds). */
export const RunPreview = Preview;
export type RunPreview = z.infer<typeof Preview>;

/**
 * A run's batch losses, thinned to at most BATCH_LOSS_MAX_POINTS evenly spaced batches over the
 * whole run (what `<run>/batch-loss.json` holds): x in fractional epochs (epoch − 1 + batch / batches).
 */
export const BATCH_LOSS_MAX_POINTS = 2000;
export const RunBatchLoss = z.object({ x: z.array(z.number()), y: z.array(storedLoss) });
export type RunBatchLoss = z.infer<typeof RunBatchLoss>;

export const RunStatusPayload = z.object({
  runId: RunId,
  status: RunStatus,
  message: z.string().optional(),
  epochsDone: z.number().int(),
});
export type RunStatusPayload = z.infer<typeof RunStatusPayload>;

export const runCalls = {
  /** Starts a run in the trainer process; events follow as `runs:event`, the end as `runs:status`. */
  'runs:start': {
    req: z.object({ config: ModelConfig, dataset: RunDataset, name: RunName.optional() }).strict(),
    res: z.object({ runId: RunId }),
  },
  /** Asks a running run to stop after the current batch (the last checkpoint stays). */
  'runs:stop': { req: z.object({ runId: RunId }).strict(), res: z.object({ stopping: z.boolean() }) },
  /** Continues a stopped or failed run from its last checkpoint. */
  'runs:resume': { req: z.object({ runId: RunId }).strict(), res: z.object({ runId: RunId }) },
  /** Every run of this session, newest first. */
  'runs:list': { req: z.object({}).strict(), res: z.array(RunSummary) },
  /** Renames a run and/or changes its note (saved in its run.json). */
  'runs:update': {
    req: z.object({ runId: RunId, name: RunName.optional(), note: RunNote.optional() }).strict(),
    res: RunSummary,
  },
  /** The run's latest reconstruction preview (kept in the run folder when it ends), or null when it has none yet. */
  'runs:preview': { req: z.object({ runId: RunId }).strict(), res: Preview.nullable() },
  /** The run's batch losses so far, thinned (kept in the run folder), so the Train chart's batch line comes back after a reload. */
  'runs:batchLoss': {
    req: z.object({ runId: RunId }).strict(),
    res: z.object({ x: z.array(z.number()), y: z.array(z.number().nullable()) }),
  },
};

export const runEvents = {
  'runs:event': RunEventPayload,
  'runs:status': RunStatusPayload,
};
