// host/runs/files.ts BatchLossSeries: a run's batch losses thinned as they come, so the Train
// chart's batch line comes back after a reload from a small file (at most 2,000 points a run).
import { describe, expect, it } from 'vitest';
import { BatchLossSeries } from '../../../../src-main/host/runs/files';

describe('batch-loss series', () => {
  it('keeps every batch of a short run, and at most `max` evenly spread points of a long one', () => {
    const short = new BatchLossSeries(100);
    for (let i = 1; i <= 60; i++) short.push(i / 10, 1 / i);
    expect(short.x).toHaveLength(60);
    expect(short.y[59]).toBeCloseTo(1 / 60);

    const long = new BatchLossSeries(100);
    for (let i = 0; i < 10_000; i++) long.push(i, i);
    expect(long.x.length).toBeLessThanOrEqual(100);
    expect(long.x.length).toBeGreaterThan(50);
    const gaps = long.x.slice(1).map((x, i) => x - long.x[i]);
    expect(new Set(gaps).size).toBe(1); // even spacing over the whole run
    expect(long.x[0]).toBe(0);
    expect(long.x.at(-1)).toBeGreaterThan(9_800); // reaches the end of the run
  });

  it("a resumed run's series drops the batches after its checkpoint and goes on thinning at the same stride", () => {
    const s = new BatchLossSeries(100);
    for (let i = 0; i < 1_000; i++) s.push(i / 100, i); // 10 epochs of 100 batches
    const saved = JSON.parse(JSON.stringify(s)) as { x: number[]; y: number[]; stride: number };
    const resumed = BatchLossSeries.from(saved, 6, 100); // the checkpoint saved epoch 6
    expect(Math.max(...resumed.x)).toBeLessThanOrEqual(6);
    expect(resumed.stride).toBe(saved.stride);
    for (let i = 600; i < 1_000; i++) resumed.push(i / 100, i);
    expect(resumed.x.every((x, i) => i === 0 || x > resumed.x[i - 1])).toBe(true);
    expect(resumed.x.length).toBeLessThanOrEqual(100);
  });
});
