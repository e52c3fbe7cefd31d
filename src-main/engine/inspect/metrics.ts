// Inspection metrics, pure functions (checked against scikit-learn and a reference PRO in Python,
// test/integration/inspect-metrics.test.ts):
//  - image ROC AUC (Mann–Whitney, ties count one half: roc_auc_score);
//  - PR AUC as average precision, Σ (Rₙ − Rₙ₋₁)·Pₙ over the distinct scores (average_precision_score);
//  - F1-max over the precision–recall curve, with its threshold (score ≥ threshold = defective);
//  - pixel ROC AUC over every pixel of every scored image (good images included);
//  - AUPRO up to a false-positive rate of 0.3, normalised to [0, 1], as MVTec AD defines it
//    (Bergmann et al., IJCV 2021, and their evaluation code): the ground-truth regions are the
//    8-connected components of each mask; for each distinct threshold, the FPR is the share of
//    defect-free pixels (over all images) at or above it and the PRO the mean, over all regions,
//    of the share of a region's pixels at or above it; the area under PRO(FPR) from 0 to 0.3
//    (the last segment interpolated at 0.3) is divided by 0.3.

/** ROC AUC of scores (higher = more anomalous); NaN without both classes. */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  let P = 0;
  for (let i = 0; i < scores.length; i++) if (positive[i]) P++;
  const N = scores.length - P;
  if (P === 0 || N === 0) return NaN;
  const pos = new Float64Array(P);
  const neg = new Float64Array(N);
  let a = 0;
  let b = 0;
  for (let i = 0; i < scores.length; i++) {
    if (positive[i]) pos[a++] = scores[i];
    else neg[b++] = scores[i];
  }
  pos.sort();
  neg.sort();
  // for each positive: negatives strictly below + half the negatives equal to it
  let below = 0;
  let upTo = 0;
  let sum = 0;
  for (let i = 0; i < P; i++) {
    const s = pos[i];
    while (below < N && neg[below] < s) below++;
    if (upTo < below) upTo = below;
    while (upTo < N && neg[upTo] <= s) upTo++;
    sum += below + (upTo - below) / 2;
  }
  return sum / (P * N);
}

/** Indices sorted by score, highest first. */
function byScoreDesc(scores: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((x, y) => scores[y] - scores[x]);
}

export interface PrPoint {
  precision: number;
  recall: number;
  threshold: number;
}

/** The precision–recall curve, one point per distinct score, highest threshold first. */
export function prCurve(
  scores: ArrayLike<number>,
  positive: ArrayLike<boolean | number>,
): { points: PrPoint[]; positives: number } {
  const idx = byScoreDesc(scores);
  let P = 0;
  for (let i = 0; i < scores.length; i++) if (positive[i]) P++;
  const points: PrPoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < idx.length;) {
    const s = scores[idx[k]];
    while (k < idx.length && scores[idx[k]] === s) {
      if (positive[idx[k]]) tp++;
      else fp++;
      k++;
    }
    points.push({ precision: tp / (tp + fp), recall: P ? tp / P : NaN, threshold: s });
  }
  return { points, positives: P };
}

/** Average precision (PR AUC); NaN without positives. */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  const { points, positives } = prCurve(scores, positive);
  if (!positives) return NaN;
  let ap = 0;
  let r = 0;
  for (const p of points) {
    ap += (p.recall - r) * p.precision;
    r = p.recall;
  }
  return ap;
}

/** The best F1 over all thresholds, with the threshold (score ≥ it = defective), precision and recall there. */
export function f1Max(
  scores: ArrayLike<number>,
  positive: ArrayLike<boolean | number>,
): { f1: number; threshold: number; precision: number; recall: number } {
  const { points, positives } = prCurve(scores, positive);
  let best = { f1: NaN, threshold: NaN, precision: NaN, recall: NaN };
  if (!positives) return best;
  for (const p of points) {
    const f1 = p.precision + p.recall > 0 ? (2 * p.precision * p.recall) / (p.precision + p.recall) : 0;
    if (!(f1 <= best.f1)) best = { f1, threshold: p.threshold, precision: p.precision, recall: p.recall };
  }
  return best;
}

/** 8-connected components of an h × w mask (non-zero = defect): labels 1..count, 0 = background. */
export function connectedComponents(
  mask: ArrayLike<number>,
  h: number,
  w: number,
): { labels: Int32Array; count: number } {
  const labels = new Int32Array(h * w);
  const stack: number[] = [];
  let count = 0;
  for (let start = 0; start < h * w; start++) {
    if (!mask[start] || labels[start]) continue;
    labels[start] = ++count;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop() as number;
      const y = Math.floor(p / w);
      const x = p - y * w;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const q = yy * w + xx;
          if (mask[q] && !labels[q]) {
            labels[q] = count;
            stack.push(q);
          }
        }
      }
    }
  }
  return { labels, count };
}

/** Area under (x, y) from x = 0 to xMax by trapezoids, the last segment interpolated at xMax (x ascending). */
function trapezoidTo(x: number[], y: number[], xMax: number): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    if (x[i - 1] >= xMax) break;
    if (x[i] <= xMax) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
    else {
      const yMax = y[i - 1] + ((y[i] - y[i - 1]) * (xMax - x[i - 1])) / (x[i] - x[i - 1]);
      area += ((xMax - x[i - 1]) * (yMax + y[i - 1])) / 2;
    }
  }
  return area;
}

/**
 * AUPRO up to `limit` FPR, normalised (÷ limit). `maps` and `masks` are N·H·W (mask non-zero =
 * defect). NaN when no image has a defect region or no pixel is defect-free.
 */
export function aupro(
  maps: ArrayLike<number>,
  masks: ArrayLike<number>,
  n: number,
  h: number,
  w: number,
  limit = 0.3,
): number {
  const size = h * w;
  const fpStep = new Uint8Array(n * size);
  const proStep = new Float64Array(n * size);
  let okPixels = 0;
  let regions = 0;
  for (let i = 0; i < n; i++) {
    const { labels, count } = connectedComponents(
      masks instanceof Uint8Array
        ? masks.subarray(i * size, (i + 1) * size)
        : Array.from({ length: size }, (_, k) => masks[i * size + k]),
      h,
      w,
    );
    const area = new Float64Array(count + 1);
    for (let p = 0; p < size; p++) area[labels[p]]++;
    for (let p = 0; p < size; p++) {
      if (labels[p] === 0) {
        fpStep[i * size + p] = 1;
        okPixels++;
      } else proStep[i * size + p] = 1 / area[labels[p]];
    }
    regions += count;
  }
  if (!regions || !okPixels) return NaN;
  const idx = byScoreDesc(maps);
  const fprs = [0];
  const pros = [0];
  let fp = 0;
  let pro = 0;
  for (let k = 0; k < idx.length;) {
    const s = maps[idx[k]];
    while (k < idx.length && maps[idx[k]] === s) {
      fp += fpStep[idx[k]];
      pro += proStep[idx[k]];
      k++;
    }
    fprs.push(Math.min(1, fp / okPixels));
    pros.push(Math.min(1, pro / regions));
    if (fp / okPixels > limit) break; // the rest lies past the limit
  }
  return trapezoidTo(fprs, pros, limit) / limit;
}

export interface InspectionScores {
  imageAuroc: number;
  imageAupr: number;
  f1Max: number;
  /** The F1-max threshold (score ≥ it = defective). */
  f1Threshold: number;
  /** With masks: pixel ROC AUC and AUPRO (FPR ≤ 0.3). */
  pixelAuroc?: number;
  aupro?: number;
  good: number;
  defective: number;
}

export interface InspectionMetrics extends InspectionScores {
  /** Per defect type: that type's images against the good ones. */
  perType: Array<{ label: number; name: string } & InspectionScores>;
}

/**
 * Image metrics of `scores` (one per image; `labels[i] === goodLabel` = good, any other label a
 * defect type) and, with `maps` and `masks` (N·H·W), the pixel metrics — overall and per defect type.
 */
export function inspectionMetrics(input: {
  scores: ArrayLike<number>;
  labels: ArrayLike<number>;
  goodLabel: number;
  labelNames?: string[];
  maps?: Float32Array;
  masks?: Uint8Array;
  h?: number;
  w?: number;
}): InspectionMetrics {
  const { scores, labels, goodLabel } = input;
  const n = scores.length;
  const measure = (keep: (i: number) => boolean): InspectionScores => {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (keep(i)) rows.push(i);
    const s = rows.map((i) => scores[i]);
    const pos = rows.map((i) => labels[i] !== goodLabel);
    const f = f1Max(s, pos);
    const out: InspectionScores = {
      imageAuroc: rocAuc(s, pos),
      imageAupr: averagePrecision(s, pos),
      f1Max: f.f1,
      f1Threshold: f.threshold,
      good: pos.filter((p) => !p).length,
      defective: pos.filter(Boolean).length,
    };
    if (input.maps && input.masks && input.h && input.w) {
      const size = input.h * input.w;
      const m = new Float32Array(rows.length * size);
      const g = new Uint8Array(rows.length * size);
      rows.forEach((i, k) => {
        m.set(input.maps!.subarray(i * size, (i + 1) * size), k * size);
        g.set(input.masks!.subarray(i * size, (i + 1) * size), k * size);
      });
      out.pixelAuroc = rocAuc(m, g);
      out.aupro = aupro(m, g, rows.length, input.h, input.w);
    }
    return out;
  };
  const types = [...new Set(Array.from({ length: n }, (_, i) => labels[i]))]
    .filter((l) => l !== goodLabel)
    .sort((a, b) => a - b);
  return {
    ...measure(() => true),
    perType: types.map((t) => ({
      label: t,
      name: input.labelNames?.[t] ?? String(t),
      ...measure((i) => labels[i] === goodLabel || labels[i] === t),
    })),
  };
}
