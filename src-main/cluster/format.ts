// What a cluster job folder holds, as zod schemas: job.json (written by the studio),
// and what train.py writes into out/ (checkpoint/state.json, done.json). The importer parses
// them with these schemas, so a damaged or foreign file is refused with the field that is wrong.
import { z } from 'zod';

export const JOB_FORMAT = 'autoencoder-studio/torch-job';
export const JOB_VERSION = 1;

/** Files of a job folder (relative to it). */
export const JOB_FILES = {
  job: 'job.json',
  train: 'train.py',
  launch: 'launch.sh',
  slurm: 'slurm.sbatch',
  requirements: 'requirements.txt',
  readme: 'README.md',
  dataset: 'data/dataset.safetensors',
  initModel: 'init/model.safetensors',
  initOptimizer: 'init/optimizer.safetensors',
  out: 'out',
  checkpoint: 'out/checkpoint',
  checkpointOld: 'out/checkpoint.old',
  metrics: 'out/metrics.jsonl',
  done: 'out/done.json',
  progress: 'out/progress.json',
} as const;

const finite = z.number().finite();
const count = z.number().int().min(0);

export const History = z.object({
  loss: z.array(finite).max(1_000_000),
  valLoss: z.array(finite.nullable()).max(1_000_000),
});

/** Where the run's images come from in the studio (a RunDataset), when they are in a workspace. */
export const JobDatasetSpec = z.union([
  z.object({ builtin: z.literal('mnist'), count: z.number().int().min(1).max(10_000_000) }).strict(),
  z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), count: z.number().int().min(1).optional() }).strict(),
]);

export const JobJson = z
  .object({
    format: z.literal(JOB_FORMAT),
    version: z.literal(JOB_VERSION),
    name: z.string().max(200),
    createdAt: z.string().max(64),
    source: z
      .object({
        runId: z.string().max(128).nullable(),
        fromCheckpoint: z.boolean(),
        /** The studio's dataset of the run, or null when it is only in this folder (e.g. a built-in from the CLI). */
        dataset: JobDatasetSpec.nullable(),
        datasetName: z.string().max(200),
        labelNames: z.array(z.string().max(200)).max(100_000),
      })
      .strict(),
    /** The studio's resolved ModelConfig (validated again on import). */
    config: z.record(z.string(), z.unknown()),
    /** The layer plan train.py builds (plan.ts); the importer recomputes it from the config. */
    model: z.record(z.string(), z.unknown()),
    weights: z.array(z.object({ key: z.string().max(200), shape: z.array(count).max(8) }).strict()).max(10_000),
    /** Epochs trained in the studio before the job (0 for a fresh job). */
    startEpoch: count,
    /** Epochs the job trains by default (train.py --epochs overrides). */
    epochs: z.number().int().min(1),
    history: History,
    bestValLoss: finite.nullable(),
    sinceBest: count,
    dataset: z
      .object({
        file: z.literal(JOB_FILES.dataset),
        count: z.number().int().min(1),
        shape: z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]),
        train: count,
        val: count,
        /** Images of the test split (measured once at the end); absent in jobs written before it. */
        test: count.optional(),
        bytes: count,
      })
      .strict(),
    init: z
      .object({
        model: z.literal(JOB_FILES.initModel),
        optimizer: z.literal(JOB_FILES.initOptimizer).optional(),
        iterations: count,
      })
      .strict(),
  })
  .strict();
export type JobJson = z.infer<typeof JobJson>;

/** One line of metrics.jsonl (and of state.json's `epochs`). */
export const EpochRecord = z
  .object({
    epoch: z.number().int().min(1),
    train_loss: finite,
    val_loss: finite.nullable(),
    samples_per_sec: finite.nonnegative(),
    world_size: z.number().int().min(1).max(1_000_000),
    seconds: finite.nonnegative(),
    restart: count,
    time: z.string().max(64),
  })
  .passthrough();
export type EpochRecord = z.infer<typeof EpochRecord>;

/** out/checkpoint/state.json, written by train.py with every checkpoint. */
export const JobCheckpointState = z
  .object({
    format: z.literal(JOB_FORMAT),
    version: z.literal(JOB_VERSION),
    epochsDone: count,
    startEpoch: count,
    targetEpoch: count,
    history: History,
    bestValLoss: finite.nullable(),
    sinceBest: count,
    iterations: count,
    epochs: z.array(EpochRecord).max(1_000_000),
    resumedFrom: count.nullable(),
  })
  .passthrough();
export type JobCheckpointState = z.infer<typeof JobCheckpointState>;

/** out/done.json: the job trained all its epochs (or stopped early). */
export const TestMetricsJson = z
  .object({
    count: z.number().int().min(1),
    loss: finite,
    mse: finite,
    psnr: finite,
    perLabel: z
      .array(z.object({ label: count, count: z.number().int().min(1), mse: finite }).passthrough())
      .max(100_000),
  })
  .passthrough();

export const DoneJson = z
  .object({
    format: z.literal(JOB_FORMAT),
    epochsDone: count,
    reason: z.enum(['done', 'early-stopping']),
    message: z.string().max(2000),
    /** train.py's measurement of the test split at the end (jobs with a test split). */
    test: TestMetricsJson.optional(),
  })
  .passthrough();
export type DoneJson = z.infer<typeof DoneJson>;

/** out/progress.json: where the job is, rewritten atomically when it starts, after every epoch and at the end. */
export const ProgressJson = z
  .object({
    format: z.literal(JOB_FORMAT),
    status: z.enum(['training', 'done', 'failed']),
    epochsDone: count,
    startEpoch: count,
    targetEpoch: count,
    worldSize: z.number().int().min(1).max(1_000_000),
    restart: count,
    time: z.string().max(64),
    lastEpochSeconds: finite.nonnegative().optional(),
    message: z.string().max(2000).optional(),
  })
  .passthrough();
export type ProgressJson = z.infer<typeof ProgressJson>;

/** The optimizer slots train.py keeps per weight, in tfjs's order and names (fast/optimizer.ts). */
export function optimizerSlots(optimizer: string, momentum: number): string[] {
  if (optimizer === 'adam') return ['m', 'v'];
  if (optimizer === 'rmsprop') return ['rms', 'momentum'];
  return momentum > 0 ? ['momentum'] : [];
}
