// What a trained run is good for, measured in the trainer process on the run's own dataset and
// split (engine/evaluate): reconstruction quality, probes on the codes against pixel and PCA
// baselines (accuracy, confusion matrix, per-class accuracy), per-label counts and errors, the
// error histogram per label, the worst images, and — for labels marked anomalous — the ROC curve
// and its AUC. Every number the Gallery shows comes from here.
import { z } from 'zod';
import { RunId } from './runs';

const Quality = z.object({ count: z.number().int(), mse: z.number(), psnr: z.number(), ssim: z.number() });
const Probe = z.object({
  accuracy: z.number(),
  /** Rows: true label, columns: prediction, in `probes.labels` order. */
  confusion: z.array(z.array(z.number().int())),
  /** Accuracy per true label (null where a label has no held-out image). */
  perClass: z.array(z.number().nullable()),
});
const Trio = z.object({ codes: Probe, pixels: Probe, pca: Probe });

export const Evaluation = z.object({
  /** Label names by label number (empty for numbered labels). */
  labelNames: z.array(z.string()),
  shape: z.tuple([z.number(), z.number(), z.number()]),
  /** Images in the dataset, trained on, and scored (never trained on). */
  counts: z.object({ total: z.number().int(), train: z.number().int(), scored: z.number().int() }),
  reconstruction: Quality,
  perLabel: z.array(Quality.extend({ label: z.number().int(), total: z.number().int(), train: z.number().int() })),
  probes: z
    .object({
      dims: z.object({ codes: z.number().int(), pixels: z.number().int(), pca: z.number().int() }),
      pcaExplained: z.number(),
      trainRows: z.number().int(),
      testRows: z.number().int(),
      labels: z.array(z.number().int()),
      linear: Trio,
      knn: Trio.extend({ k: z.number().int() }),
    })
    .optional(),
  /** Reconstruction-error histogram per label over [lo, hi] in `bins` bins. */
  histogram: z.object({ lo: z.number(), hi: z.number(), bins: z.number().int(), perLabel: z.array(z.object({ label: z.number().int(), counts: z.array(z.number().int()) })) }),
  /** The bins' edges (bins + 1 values from lo to hi): the threshold positions. */
  edges: z.array(z.number()),
  /** above[b]: scored images whose error is at least edges[b] (b = 0…bins). */
  above: z.array(z.number().int()),
  /** The worst-reconstructed scored images, largest error first (up to 48). */
  worst: z.object({ originals: z.array(z.string()), reconstructions: z.array(z.string()), mse: z.array(z.number()), labels: z.array(z.number().int()), indices: z.array(z.number().int()) }),
  /** Every scored image's error as CSV (index,label,mse,anomalous), worst first. */
  csv: z.string(),
  anomaly: z
    .object({
      anomalous: z.array(z.number().int()),
      auc: z.number(),
      positives: z.number().int(),
      negatives: z.number().int(),
      roc: z.array(z.object({ fpr: z.number(), tpr: z.number(), threshold: z.number().nullable() })),
    })
    .optional(),
});
export type Evaluation = z.infer<typeof Evaluation>;

export const evaluateCalls = {
  /** Evaluates a trained run on its dataset (probes, per-label errors, histogram; with `anomalous`, the ROC curve). Cached per run in the trainer. */
  'evaluate:run': {
    req: z.object({ runId: RunId, anomalous: z.array(z.number().int().min(0).max(1_000_000)).max(1000).default([]) }).strict(),
    res: Evaluation,
  },
};
