// The Inspect panel's arithmetic: pass/fail counts, precision and recall at a threshold (score ≥
// threshold = flagged, as calibration's F1-max), the histogram's bins, the heat colours and the
// mask outline.
import { describe, expect, it } from 'vitest';
import {
  heatColour,
  histogram,
  maskOutline,
  thresholdCounts,
} from '../../../../../src-renderer/components/gallery/inspect-stats';

describe('thresholdCounts', () => {
  const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
  const defective = [false, false, true, false, true, true];
  it('counts flagged and passed pictures, precision and recall', () => {
    expect(thresholdCounts(scores, defective, 0.35)).toMatchObject({
      flagged: 3,
      passed: 3,
      truePositives: 2,
      falsePositives: 1,
      defects: 3,
    });
    expect(thresholdCounts(scores, defective, 0.35).precision).toBeCloseTo(2 / 3, 12);
    expect(thresholdCounts(scores, defective, 0.35).recall).toBeCloseTo(2 / 3, 12);
    // a score equal to the threshold is flagged
    expect(thresholdCounts(scores, defective, 0.5)).toMatchObject({ flagged: 2, recall: 2 / 3, precision: 1 });
    expect(thresholdCounts(scores, defective, 0)).toMatchObject({ flagged: 6, passed: 0, recall: 1, precision: 0.5 });
    expect(thresholdCounts(scores, defective, 1)).toMatchObject({ flagged: 0, passed: 6, recall: 0, precision: null });
  });
  it('has no precision or recall without labelled defects', () => {
    expect(thresholdCounts([1, 2], [false, false], 1.5)).toMatchObject({
      flagged: 1,
      passed: 1,
      recall: null,
      precision: null,
    });
  });
});

describe('histogram', () => {
  it('bins good pictures and defects apart, and keeps the threshold in range', () => {
    const h = histogram([0, 1, 2, 3], [false, false, true, true], 4, [5]);
    expect([h.lo, h.hi]).toEqual([0, 5]);
    expect(h.good).toEqual([2, 0, 0, 0]);
    expect(h.bad).toEqual([0, 1, 1, 0]);
    // the highest value falls in the last bin
    expect(histogram([0, 1], [false, true], 2).bad).toEqual([0, 1]);
  });
  it('widens a range of one value', () => {
    const h = histogram([2, 2], [false, false], 3);
    expect(h.hi).toBeGreaterThan(h.lo);
    expect(h.good.reduce((a, b) => a + b)).toBe(2);
  });
});

describe('heat colours and outlines', () => {
  it('goes from blue to red', () => {
    expect(heatColour(0)).toEqual([0, 0, 255]);
    expect(heatColour(1)).toEqual([255, 0, 0]);
    expect(heatColour(2)).toEqual([255, 0, 0]);
  });
  it('outlines a mask by its border pixels only', () => {
    const m = new Uint8Array(25);
    for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) m[y * 5 + x] = 255;
    const o = maskOutline(m, 5, 5);
    expect(o[2 * 5 + 2]).toBe(0); // the centre is inside
    expect(Array.from(o).reduce((a, b) => a + b)).toBe(8);
  });
});
