// The Inspect panel's arithmetic, kept out of the component so it is tested on its own: what a
// threshold does to the scored pictures (score ≥ threshold = flagged, as calibration's F1), the
// score histogram, and the heat colours of an anomaly map.

export interface ThresholdCounts {
  flagged: number;
  passed: number;
  /** Labelled defects flagged / all labelled defects (null without labelled defects). */
  recall: number | null;
  /** Labelled defects among the flagged (null when nothing is flagged or nothing is labelled). */
  precision: number | null;
  truePositives: number;
  falsePositives: number;
  defects: number;
}

export function thresholdCounts(
  scores: readonly number[],
  defective: readonly boolean[],
  threshold: number,
): ThresholdCounts {
  let flagged = 0;
  let tp = 0;
  let defects = 0;
  scores.forEach((s, i) => {
    const f = s >= threshold;
    if (f) flagged++;
    if (defective[i]) {
      defects++;
      if (f) tp++;
    }
  });
  return {
    flagged,
    passed: scores.length - flagged,
    recall: defects ? tp / defects : null,
    precision: defects && flagged ? tp / flagged : null,
    truePositives: tp,
    falsePositives: flagged - tp,
    defects,
  };
}

export interface Histogram {
  lo: number;
  hi: number;
  /** Per bin: good pictures, labelled defects. */
  good: number[];
  bad: number[];
}

/** `bins` equal bins from the lowest to the highest of `scores` and `extra` (the threshold stays in view). */
export function histogram(
  scores: readonly number[],
  defective: readonly boolean[],
  bins: number,
  extra: readonly number[] = [],
): Histogram {
  const all = [...scores, ...extra].filter(Number.isFinite);
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (hi <= lo) [lo, hi] = [lo - 0.5, hi + 0.5];
  const good = new Array<number>(bins).fill(0);
  const bad = new Array<number>(bins).fill(0);
  scores.forEach((s, i) => {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((s - lo) / (hi - lo)) * bins)));
    (defective[i] ? bad : good)[b]++;
  });
  return { lo, hi, good, bad };
}

/** A heat colour for v in [0, 1]: blue → cyan → yellow → red. */
export function heatColour(v: number): [number, number, number] {
  const t = Math.max(0, Math.min(1, v));
  const stops: Array<[number, number, number]> = [
    [0, 0, 255],
    [0, 255, 255],
    [255, 255, 0],
    [255, 0, 0],
  ];
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i], stops[i + 1]];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/** The pixels of a mask (H·W, non-zero = defect) on its border: in the mask, with a 4-neighbour outside it or at the picture's edge. */
export function maskOutline(mask: Uint8Array, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      const edge =
        x === 0 ||
        y === 0 ||
        x === w - 1 ||
        y === h - 1 ||
        !mask[y * w + x - 1] ||
        !mask[y * w + x + 1] ||
        !mask[(y - 1) * w + x] ||
        !mask[(y + 1) * w + x];
      if (edge) out[y * w + x] = 1;
    }
  return out;
}
