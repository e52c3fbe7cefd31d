// The studio's default setup for an inspection run (train on good pictures only, find defects by
// what the model cannot reconstruct): `ae-studio train --preset inspection`, and the Model view's
// preset. The map, score and threshold a run inspects with are measured after training
// (src-main/engine/inspect/calibration.ts) and kept in its model/inspection.json.
import { z } from 'zod';
import type { ModelConfigInput } from './model-config';
import { RunId } from './runs';

export const RUN_PRESETS = ['inspection'] as const;
export type RunPreset = (typeof RUN_PRESETS)[number];

/**
 * A convolutional autoencoder with 3 stride-2 stages (2 for pictures under 32 px or not divisible
 * by 8), trained with L2 (MSE): in `npm run bench:inspect` the L2 + SSIM and SSIM objectives scored
 * no better with the default map on the textures (docs/inspection.md); a tenth of the good pictures
 * held out for the normalisation and the threshold, early stopping.
 */
export function inspectionPreset(shape: readonly [number, number, number]): ModelConfigInput {
  const crop = inspectionCrop(shape);
  const [h, w] = crop ? [crop, crop] : shape;
  const stages = h >= 32 && w >= 32 && h % 8 === 0 && w % 8 === 0 ? [32, 64, 128] : [32, 64];
  return {
    kind: 'conv',
    inputShape: [h, w, shape[2]],
    ...(crop ? { cropSize: crop } : {}),
    hidden: stages,
    latentDim: 64,
    loss: 'mse',
    outputActivation: 'sigmoid',
    optimizer: 'adam',
    learningRate: 1e-3,
    batchSize: 16,
    epochs: 60,
    validationSplit: 0.1,
    earlyStoppingPatience: 10,
  };
}

/**
 * The random crop the inspection preset trains on for pictures of `shape`: none below 256 px a
 * side (the model takes the whole picture), 64 px from 256 px, 128 px from 512 px.
 */
export function inspectionCrop(shape: readonly [number, number, number]): number {
  const side = Math.min(shape[0], shape[1]);
  return side >= 512 ? 128 : side >= 256 ? 64 : 0;
}

// ---- The Gallery's Inspect panel (docs/inspection.md, "In the studio") ----
const Shape = z.tuple([z.number(), z.number(), z.number()]);
const Scores = z.object({
  imageAuroc: z.number(),
  imageAupr: z.number(),
  f1Max: z.number(),
  f1Threshold: z.number(),
  pixelAuroc: z.number().optional(),
  aupro: z.number().optional(),
  good: z.number().int(),
  defective: z.number().int(),
});

/** How a run's maps and score are made (engine/inspect/calibration.ts, InspectionSettings). */
export const InspectSettings = z.object({
  map: z.enum(['l2', 'ssim']),
  smoothSigma: z.number().min(0).max(16),
  topkPercent: z.number().gt(0).max(100),
  score: z.enum(['mean', 'max', 'topk']),
});
export type InspectSettings = z.infer<typeof InspectSettings>;

/** What a run's model/inspection.json says, as the panel shows it. */
export const InspectCalibration = z.object({
  settings: InspectSettings,
  threshold: z.object({
    value: z.number(),
    /** `manual`: moved by the user on the histogram (`measured` keeps the value calibration chose). */
    method: z.enum(['f1', 'percentile', 'manual']),
    percentile: z.number().optional(),
    f1: z.number().optional(),
    measured: z.object({ value: z.number(), method: z.enum(['f1', 'percentile']) }).optional(),
  }),
  goodValidation: z.number().int(),
  measured: Scores.extend({
    dataset: z.string(),
    perType: z.array(Scores.extend({ label: z.number().int(), name: z.string() })),
  }).optional(),
  createdAt: z.string(),
});
export type InspectCalibration = z.infer<typeof InspectCalibration>;

/**
 * The Inspect panel of one run: its calibration, every scored picture's score and whether it is a
 * labelled defect (for the histogram), and the worst pictures first with their anomaly maps (uint8
 * heat, 0 at `mapRange[0]`, 255 at `mapRange[1]`) and ground-truth masks where the set has them.
 */
export const InspectView = z.object({
  shape: Shape,
  /** null: the run has no (usable) model/inspection.json yet; `note` says why. */
  calibration: InspectCalibration.nullable(),
  note: z.string().optional(),
  /** The pictures scored: the paired test set of an inspection set, else the run's validation pictures. */
  source: z.object({ name: z.string(), kind: z.enum(['test', 'validation']) }),
  scores: z.array(z.number()),
  defective: z.array(z.boolean()),
  labels: z.array(z.number().int()),
  labelNames: z.array(z.string()),
  mapRange: z.tuple([z.number(), z.number()]),
  items: z.array(
    z.object({
      index: z.number().int(),
      score: z.number(),
      original: z.string(),
      map: z.string(),
      mask: z.string().optional(),
    }),
  ),
});
export type InspectView = z.infer<typeof InspectView>;

export const InspectTryResult = z.object({
  shape: Shape,
  threshold: z.number(),
  mapRange: z.tuple([z.number(), z.number()]),
  results: z.array(
    z.object({
      name: z.string(),
      error: z.string().optional(),
      original: z.string().optional(),
      map: z.string().optional(),
      score: z.number().optional(),
      defective: z.boolean().optional(),
      /** With `tile`: the H × W of `original` and `map` as sent — the picture's own, or every `step`-th pixel of it for display (the score is the full picture's). */
      size: z.tuple([z.number().int(), z.number().int()]).optional(),
      step: z.number().int().optional(),
    }),
  ),
});
export type InspectTryResult = z.infer<typeof InspectTryResult>;

export const inspectCalls = {
  /** The Inspect panel of a run (worst `count` pictures with maps); calibration null when the run has none yet. */
  'inspect:images': {
    req: z.object({ runId: RunId, count: z.number().int().min(1).max(64).default(24) }).strict(),
    res: InspectView,
  },
  /** Calibrates the run (normalisation and threshold, written to model/inspection.json), then answers as inspect:images. */
  'inspect:calibrate': {
    req: z
      .object({
        runId: RunId,
        count: z.number().int().min(1).max(64).default(24),
        settings: InspectSettings.partial().strict().optional(),
        percentile: z.number().min(50).max(100).default(99),
      })
      .strict(),
    res: InspectView,
  },
  /** Saves a threshold the user chose into the run's model/inspection.json (refused when the run has none, or the file is not this run's). */
  'inspect:threshold': {
    req: z.object({ runId: RunId, value: z.number().finite().min(-1e9).max(1e9) }).strict(),
    res: InspectCalibration.shape.threshold,
  },
  /** Try it for inspection: each new picture's anomaly map, score and verdict against the run's threshold. */
  'inspect:try': {
    req: z
      .object({
        runId: RunId,
        files: z
          .array(z.object({ name: z.string().min(1).max(260), data: z.string().min(1).max(11_200_000) }).strict())
          .min(1)
          .max(32),
        /** Score each picture at its own resolution by overlapping tiles of the model's size (stitched map), instead of resizing it. */
        tile: z.boolean().default(false),
      })
      .strict(),
    res: InspectTryResult,
  },
};
