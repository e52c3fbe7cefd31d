// A two-label evaluation as the trainer answers `evaluate:run` (probes, histogram, worst images, the
// ROC for the labels marked anomalous), for the Gallery's and the Model view's component tests.
import type { Evaluation } from '@contract';

export const px = btoa(String.fromCharCode(...new Array<number>(784).fill(128)));
const probe = (accuracy: number) => ({
  accuracy,
  confusion: [
    [40, 10],
    [5, 45],
  ],
  perClass: [0.8, 0.9],
});
export function evaluation(anomalous: number[]): Evaluation {
  return {
    labelNames: ['cat', 'dog'],
    shape: [28, 28, 1],
    counts: { total: 500, train: 400, scored: 100 },
    reconstruction: { count: 100, mse: 0.0123, psnr: 19.5, ssim: 0.81 },
    perLabel: [
      { label: 0, total: 250, train: 200, count: 50, mse: 0.01, psnr: 20, ssim: 0.8 },
      { label: 1, total: 250, train: 200, count: 50, mse: 0.0146, psnr: 19, ssim: 0.82 },
    ],
    probes: {
      dims: { codes: 16, pixels: 784, pca: 16 },
      pcaExplained: 0.71,
      trainRows: 400,
      testRows: 100,
      labels: [0, 1],
      linear: { codes: probe(0.853), pixels: probe(0.9), pca: probe(0.88) },
      knn: { codes: probe(0.84), pixels: probe(0.91), pca: probe(0.87), k: 5 },
    },
    histogram: {
      lo: 0,
      hi: 0.04,
      bins: 4,
      perLabel: [
        { label: 0, counts: [20, 20, 8, 2] },
        { label: 1, counts: [10, 20, 15, 5] },
      ],
    },
    edges: [0, 0.01, 0.02, 0.03, 0.04],
    above: [100, 70, 30, 7, 0],
    worst: {
      originals: new Array(10).fill(px),
      reconstructions: new Array(10).fill(px),
      mse: [0.05, 0.04, 0.039, 0.038, 0.037, 0.036, 0.035, 0.034, 0.033, 0.032],
      labels: new Array(10).fill(1),
      indices: [...Array(10).keys()],
    },
    csv: 'index,label,mse,anomalous\n3,1,0.05,1\n',
    anomaly: anomalous.length
      ? {
          anomalous,
          auc: 0.7777,
          positives: 50,
          negatives: 50,
          roc: [
            { fpr: 0, tpr: 0, threshold: null },
            { fpr: 0.5, tpr: 0.8, threshold: 0.01 },
            { fpr: 1, tpr: 1, threshold: 0 },
          ],
        }
      : undefined,
  };
}
