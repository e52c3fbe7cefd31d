// Host <-> trainer messages (private to src-main/trainer and its supervisor). Every message the
// trainer receives is validated here; a malformed one is answered with `protocol-error` and the
// trainer keeps running.
import { z } from 'zod';
import {
  BackendInfo,
  BuiltinDatasetName,
  ClusterJobInfo,
  EndMetrics,
  DatasetManifest,
  ImportDonePayload,
  ImportOptions,
  ImportProgressPayload,
  RunDataset,
  RunEventPayload,
  RunHistory,
  RunResult,
  ModelConfig,
  Evaluation,
  GalleryViews,
  GallerySamplers,
  GalleryTryResult,
  ChosenSampler,
  SamplerName,
  BatchAdvice,
  InspectSettings,
} from '../contract';
import { AugmentConfig, NoiseConfig, NoisePreviewDataset } from '../contract';

/** A gallery view's answer, tagged with its view (`op`) so that one schema checks all six. */
const GalleryViewResult = z.discriminatedUnion('op', [
  GalleryViews.triplets.extend({ op: z.literal('triplets') }),
  GalleryViews.samples.extend({ op: z.literal('samples') }),
  GalleryViews.worst.extend({ op: z.literal('worst') }),
  GalleryViews.latent.extend({ op: z.literal('latent') }),
  GalleryViews.manifold.extend({ op: z.literal('manifold') }),
  GalleryViews.interpolate.extend({ op: z.literal('interpolate') }),
  GallerySamplers.extend({ op: z.literal('samplers') }),
]);
export type GalleryViewResult = z.infer<typeof GalleryViewResult>;

/** Methods the host may ask the trainer to run, with their params and results. */
export const methods = {
  ping: {
    params: z.object({ nonce: z.string().max(64) }).strict(),
    result: z.object({ nonce: z.string(), pid: z.number().int(), uptimeMs: z.number() }),
  },
  backendInfo: { params: z.object({}).strict(), result: BackendInfo },
  /** The trainer's live TensorFlow.js tensors (benchmarks and leak checks: the count must stay flat). */
  tensorCount: { params: z.object({}).strict(), result: z.object({ tensors: z.number().int(), bytes: z.number() }) },
  /** Starts (or resumes) a run in the background; its events come back as 'run-event' / 'run-end'. */
  runStart: {
    params: z
      .object({
        runId: z.string(),
        runDir: z.string(),
        workspaceDir: z.string(),
        config: ModelConfig,
        dataset: RunDataset,
        resume: z.boolean(),
      })
      .strict(),
    result: z.object({ accepted: z.literal(true) }),
  },
  /** Makes a built-in dataset ready in the workspace's store (decoding is heavy: not in the host). */
  datasetBuiltin: {
    params: z.object({ name: BuiltinDatasetName, workspaceDir: z.string() }).strict(),
    result: DatasetManifest,
  },
  /** Starts an import job in the background; progress and the end come back as events. */
  datasetImport: {
    params: z
      .object({
        jobId: z.string(),
        paths: z.array(z.string()),
        name: z.string(),
        options: ImportOptions,
        workspaceDir: z.string(),
        into: z.string().optional(),
      })
      .strict(),
    result: z.object({ accepted: z.literal(true) }),
  },
  /** Converts the first few images with the chosen options (the live preview before an import). */
  datasetPreviewImport: {
    params: z
      .object({ paths: z.array(z.string()), options: ImportOptions, limit: z.number().int().min(1).max(64) })
      .strict(),
    result: z.object({
      images: z.array(z.string()),
      labels: z.array(z.string()),
      shape: z.tuple([z.number(), z.number(), z.number()]),
      skipped: z.number(),
    }),
  },
  datasetCancelImport: {
    params: z.object({ jobId: z.string() }).strict(),
    result: z.object({ cancelling: z.boolean() }),
  },
  /** One Gallery view of a trained run (see contract/gallery.ts for the shapes). */
  gallery: {
    params: z
      .object({
        op: z.enum(['triplets', 'samples', 'samplers', 'worst', 'latent', 'manifold', 'interpolate']),
        runDir: z.string(),
        workspaceDir: z.string(),
        dataset: RunDataset,
        params: z.record(z.string(), z.number()),
      })
      .strict(),
    result: GalleryViewResult,
  },
  /** Fits a sampler to a trained run's codes and saves it as the run's remembered one (gallery:chooseSampler). */
  chooseSampler: {
    params: z
      .object({
        runId: z.string(),
        runDir: z.string(),
        workspaceDir: z.string(),
        dataset: RunDataset,
        sampler: SamplerName,
      })
      .strict(),
    result: ChosenSampler,
  },
  /** Evaluates a trained run on its dataset (contract/evaluate.ts for the result). */
  evaluate: {
    params: z
      .object({
        runDir: z.string(),
        workspaceDir: z.string(),
        dataset: RunDataset,
        anomalous: z.array(z.number().int()),
      })
      .strict(),
    result: Evaluation,
  },
  /** Try it: new pictures through a trained run's model (see gallery:try). */
  galleryTry: {
    params: z
      .object({
        runDir: z.string(),
        workspaceDir: z.string(),
        dataset: RunDataset,
        files: z.array(z.object({ name: z.string(), data: z.string() })),
      })
      .strict(),
    result: GalleryTryResult,
  },
  /** The Gallery's Inspect panel (contract/inspection.ts): view, calibrate, save a threshold, try new pictures. */
  inspect: {
    params: z
      .object({
        op: z.enum(['images', 'calibrate', 'threshold', 'try']),
        runId: z.string(),
        runDir: z.string(),
        workspaceDir: z.string(),
        dataset: RunDataset,
        count: z.number().int().optional(),
        settings: InspectSettings.partial().optional(),
        percentile: z.number().optional(),
        value: z.number().optional(),
        files: z.array(z.object({ name: z.string(), data: z.string() })).optional(),
        tile: z.boolean().optional(),
      })
      .strict(),
    result: z.unknown(),
  },
  /** Writes one export of a trained run to `out` (atomically; nothing at `out` on failure). */
  exportRun: {
    params: z
      .object({
        op: z.enum(['model', 'latents', 'gallery']),
        runDir: z.string(),
        workspaceDir: z.string(),
        out: z.string(),
        format: z.enum(['tfjs', 'keras', 'onnx']).optional(),
        part: z.enum(['encoder', 'decoder', 'full']).optional(),
        dataset: RunDataset.optional(),
        view: z.enum(['triplets', 'samples', 'worst', 'manifold']).optional(),
        count: z.number().int().optional(),
        seed: z.number().int().optional(),
      })
      .strict(),
    result: z.object({ files: z.array(z.string()), bytes: z.number(), inspector: z.boolean().optional() }),
  },
  /** Turns a TensorFlow.js export of a whole autoencoder into a run folder (model/ + checkpoint/). */
  importModel: {
    params: z.object({ src: z.string(), runDir: z.string(), workspaceDir: z.string() }).strict(),
    result: z.object({
      config: ModelConfig,
      dataset: RunDataset,
      epochsDone: z.number().int(),
      history: RunHistory,
    }),
  },
  /** Writes a cluster job folder for a run to `out` (atomically). */
  exportJob: {
    params: z
      .object({
        runId: z.string(),
        runDir: z.string(),
        workspaceDir: z.string(),
        config: ModelConfig,
        dataset: RunDataset,
        fromCheckpoint: z.boolean(),
        out: z.string(),
      })
      .strict(),
    result: z.object({ files: z.array(z.string()), bytes: z.number() }),
  },
  /** Turns a trained cluster job folder into a run folder (model/ + checkpoint/); may add the job's images as a dataset. */
  importJob: {
    params: z.object({ src: z.string(), runDir: z.string(), workspaceDir: z.string() }).strict(),
    result: z.object({
      config: ModelConfig,
      dataset: RunDataset,
      epochsDone: z.number().int(),
      history: RunHistory,
      status: z.enum(['completed', 'stopped']),
      message: z.string(),
      cluster: ClusterJobInfo,
      addedDataset: z.string().optional(),
      metrics: EndMetrics.optional(),
    }),
  },
  /** The Noise view's preview: the first images of a dataset, clean and corrupted by the engine's noise. */
  noisePreview: {
    params: z
      .object({
        dataset: NoisePreviewDataset,
        noise: NoiseConfig,
        count: z.number().int().min(1).max(64),
        seed: z.number().int(),
        workspaceDir: z.string(),
        augment: AugmentConfig.optional(),
      })
      .strict(),
    result: z.object({
      shape: z.tuple([z.number(), z.number(), z.number()]),
      clean: z.array(z.string()),
      noisy: z.array(z.string()),
    }),
  },
  /** Times the real training step of `config` at a few batch sizes (random data) and advises on the chosen one. */
  batchRates: {
    params: z.object({ config: ModelConfig }).strict(),
    result: BatchAdvice,
  },
  /** Asks a run to stop after its current batch. */
  runStop: { params: z.object({ runId: z.string() }).strict(), result: z.object({ stopping: z.boolean() }) },
} satisfies Record<string, { params: z.ZodType; result: z.ZodType }>;

/** Events the trainer sends while long work goes on; the supervisor checks each against its schema. */
export const trainerEvents = {
  /** A run's batch, epoch, preview, checkpoint and stop events, as the contract's `runs:event` carries them. */
  'run-event': RunEventPayload,
  /** A run ended (after its last event). */
  'run-end': z.object({
    runId: z.string(),
    result: RunResult,
  }),
  'import-progress': ImportProgressPayload,
  'import-done': ImportDonePayload,
} satisfies Record<string, z.ZodType>;
export type TrainerEventName = keyof typeof trainerEvents;
export type TrainerEventPayload<N extends TrainerEventName> = z.infer<(typeof trainerEvents)[N]>;
/** `[name, payload]` of one trainer event, narrowed by its name. */
export type TrainerEventArgs = {
  [N in TrainerEventName]: [name: N, payload: TrainerEventPayload<N>];
}[TrainerEventName];
/** How trainer code sends an event (typed by name). */
export type SendTrainerEvent = <N extends TrainerEventName>(name: N, payload: TrainerEventPayload<N>) => void;

export type MethodName = keyof typeof methods;
/** A method's params as the trainer sees them, once parsed (defaults filled in). */
export type MethodParams<M extends MethodName> = z.infer<(typeof methods)[M]['params']>;
/** A method's params as the host sends them (the trainer fills in the defaults). */
export type MethodInput<M extends MethodName> = z.input<(typeof methods)[M]['params']>;
export type MethodResult<M extends MethodName> = z.infer<(typeof methods)[M]['result']>;

/** Host -> trainer. */
export const HostToTrainer = z.discriminatedUnion('type', [
  z.object({ type: z.literal('request'), id: z.number().int().nonnegative(), method: z.string(), params: z.unknown() }),
  z.object({ type: z.literal('shutdown') }),
]);
export type HostToTrainer = z.infer<typeof HostToTrainer>;

/** Trainer -> host. */
export type TrainerToHost =
  | { type: 'ready'; info: BackendInfo }
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: { code: string; message: string } }
  | { type: 'event'; name: TrainerEventName; payload: unknown }
  | { type: 'protocol-error'; message: string }
  | { type: 'fatal'; message: string };
