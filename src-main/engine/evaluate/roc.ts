// ROC curve and its area for anomaly scores (higher = more anomalous). Pure functions.
// The AUC is the Mann–Whitney statistic: the probability that a random anomalous image scores
// higher than a random normal one, ties counting one half — the same number as the trapezoid
// area under the curve drawn through one point per distinct score (scikit-learn's roc_auc_score).

export interface RocPoint {
  /** False positive rate: normal images at or above the threshold / normal images. */
  fpr: number;
  /** True positive rate: anomalous images at or above the threshold / anomalous images. */
  tpr: number;
  /** Scores ≥ threshold are called anomalous (Infinity for the first point). */
  threshold: number;
}

export interface Roc {
  points: RocPoint[];
  auc: number;
  positives: number;
  negatives: number;
}

/** The ROC curve (one point per distinct score, from (0,0) to (1,1)) and its AUC; throws without both classes. */
export function rocCurve(scores: ArrayLike<number>, positive: ArrayLike<boolean>): Roc {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let P = 0;
  for (let i = 0; i < n; i++) if (positive[i]) P++;
  const N = n - P;
  if (P === 0 || N === 0)
    throw new Error('The ROC curve needs both anomalous and normal images among the scored ones.');
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  let auc = 0;
  for (let k = 0; k < n;) {
    const s = scores[idx[k]];
    let dtp = 0;
    let dfp = 0;
    while (k < n && scores[idx[k]] === s) {
      if (positive[idx[k]]) dtp++;
      else dfp++;
      k++;
    }
    // trapezoid between the previous point and this one
    auc += (dfp / N) * ((tp + dtp / 2) / P);
    tp += dtp;
    fp += dfp;
    points.push({ fpr: fp / N, tpr: tp / P, threshold: s });
  }
  return { points, auc, positives: P, negatives: N };
}

/** A histogram of `values` over [lo, hi] in `bins` equal bins (values outside go to the end bins). */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins: number): number[] {
  const out = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins || 1;
  for (let i = 0; i < values.length; i++) out[Math.max(0, Math.min(bins - 1, Math.floor((values[i] - lo) / w)))]++;
  return out;
}
