// What a trained run is good for, measured in the trainer process on the run's own dataset and
// split (engine/evaluate): reconstruction quality, probes on the codes against pixel and PCA
// baselines (accuracy, confusion matrix, per-class accuracy), per-label counts and errors, the
// error histogram per label, the worst images, and — for labels marked anomalous — the ROC curve
// and its AUC. Every number the Gallery shows comes from here.
import { z } from 'zod';
import { RunId } from './runs';

/** Reconstruction quality of a set of images: mean MSE, PSNR (dB) and SSIM. */
export const ImageQuality = z.object({ count: z.number().int(), mse: z.number(), psnr: z.number(), ssim: z.number() });
export type ImageQuality = z.infer<typeof ImageQuality>;

/** How well a probe predicts the labels of held-out rows from one representation. */
export const ProbeScore = z.object({
  /** Share of held-out rows predicted right. */
  accuracy: z.number(),
  /** Rows: true label, columns: prediction, in `probes.labels` order. */
  confusion: z.array(z.array(z.number().int())),
  /** Accuracy per true label (no value where a label has no held-out image: NaN in the engine, null once it crosses a process boundary). */
  perClass: z.array(z.number().nullable()),
});
export type ProbeScore = z.infer<typeof ProbeScore>;
const Trio = z.object({ codes: ProbeScore, pixels: ProbeScore, pca: ProbeScore });

/** What the engine measures (engine/evaluate): the part of the evaluation the trainer passes on as it is. */
export const EvaluationMeasures = z.object({
  /** Images in the dataset, trained on, and scored (held out + left-out labels, never trained on). */
  counts: z.object({ total: z.number().int(), train: z.number().int(), scored: z.number().int() }),
  /** Mean reconstruction quality on the scored images. */
  reconstruction: ImageQuality,
  /** Per label: images in the whole dataset, in the training split, and the quality on its scored images. */
  perLabel: z.array(ImageQuality.extend({ label: z.number().int(), total: z.number().int(), train: z.number().int() })),
  /** Probes on the codes, the raw pixels and PCA (labelled datasets with at least two labels among the training rows). */
  probes: z
    .object({
      dims: z.object({ codes: z.number().int(), pixels: z.number().int(), pca: z.number().int() }),
      /** Variance the PCA baseline keeps. */
      pcaExplained: z.number(),
      trainRows: z.number().int(),
      testRows: z.number().int(),
      /** Labels in the order of the confusion matrices' rows and columns. */
      labels: z.array(z.number().int()),
      linear: Trio,
      knn: Trio.extend({ k: z.number().int() }),
    })
    .optional(),
  /** Reconstruction-error histogram of the scored images, per label, over [lo, hi] in `bins` bins. */
  histogram: z.object({
    lo: z.number(),
    hi: z.number(),
    bins: z.number().int(),
    perLabel: z.array(z.object({ label: z.number().int(), counts: z.array(z.number().int()) })),
  }),
});
export type EvaluationMeasures = z.infer<typeof EvaluationMeasures>;

/** With anomalous labels: the ROC curve (at most 256 points) and the AUC of the MSE as the anomaly score. */
export const AnomalyRoc = z.object({
  anomalous: z.array(z.number().int()),
  auc: z.number(),
  positives: z.number().int(),
  negatives: z.number().int(),
  /** `threshold` is null for the first point (every image above it: no threshold). */
  roc: z.array(z.object({ fpr: z.number(), tpr: z.number(), threshold: z.number().nullable() })),
});
export type AnomalyRoc = z.infer<typeof AnomalyRoc>;

/** The evaluation as the Gallery gets it: the engine's measures, the label names, the thresholds and the worst images. */
export const Evaluation = EvaluationMeasures.extend({
  /** Label names by label number (empty for numbered labels). */
  labelNames: z.array(z.string()),
  shape: z.tuple([z.number(), z.number(), z.number()]),
  /** The bins' edges (bins + 1 values from lo to hi): the threshold positions. */
  edges: z.array(z.number()),
  /** above[b]: scored images whose error is at least edges[b] (b = 0…bins). */
  above: z.array(z.number().int()),
  /** The worst-reconstructed scored images, largest error first (up to 48). */
  worst: z.object({
    originals: z.array(z.string()),
    reconstructions: z.array(z.string()),
    mse: z.array(z.number()),
    labels: z.array(z.number().int()),
    indices: z.array(z.number().int()),
  }),
  /** Every scored image's error as CSV (index,label,mse,anomalous), worst first. */
  csv: z.string(),
  anomaly: AnomalyRoc.optional(),
});
export type Evaluation = z.infer<typeof Evaluation>;

export const evaluateCalls = {
  /** Evaluates a trained run on its dataset (probes, per-label errors, histogram; with `anomalous`, the ROC curve). Cached per run in the trainer. */
  'evaluate:run': {
    req: z
      .object({ runId: RunId, anomalous: z.array(z.number().int().min(0).max(1_000_000)).max(1000).default([]) })
      .strict(),
    res: Evaluation,
  },
};
