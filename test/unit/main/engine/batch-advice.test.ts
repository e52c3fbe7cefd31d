// Batch-size guidance: measured rates of the real fast step, and the plain-words hint.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { adviseBatchSize, measureBatchRates } from '../../../../src-main/engine/fast/batch-advice';

describe('batch-size guidance', () => {
  it('hints when the chosen batch is much slower per sample than a larger one, and only then', () => {
    const rates = [
      { batchSize: 16, samplesPerSec: 9_000 },
      { batchSize: 64, samplesPerSec: 25_000 },
      { batchSize: 128, samplesPerSec: 40_000 },
      { batchSize: 256, samplesPerSec: 38_000 },
    ];
    expect(adviseBatchSize(16, rates)).toMatch(
      /^Batch 16 trains this model slowly: each step has a fixed cost that a small batch does not outweigh \(~9,000 images\/s\); batch 128 would train ~40,000 images\/s \(4\.4× faster/,
    );
    expect(adviseBatchSize(128, rates)).toBeNull();
    expect(adviseBatchSize(64, rates)).toBeNull(); // 25k ≥ 60 % of 40k
    expect(adviseBatchSize(20, rates)).toMatch(/^Batch 20 .*~9,000 images\/s/); // nearest measured size
    expect(adviseBatchSize(16, [])).toBeNull();
  });

  it('measures the real step: a tiny batch on the dense AE is slower per sample, nothing leaks', () => {
    const before = tf.memory().numTensors;
    const rates = measureBatchRates({ kind: 'dense', inputShape: [28, 28, 1], latentDim: 128 }, [4, 128], 4);
    console.log(
      `dense 784-128-784: ${rates.map((r) => `batch ${r.batchSize}: ${r.samplesPerSec} samples/s`).join(', ')}; hint: ${adviseBatchSize(4, rates)}`,
    );
    expect(rates.map((r) => r.batchSize)).toEqual([4, 128]);
    expect(rates[1].samplesPerSec).toBeGreaterThan(rates[0].samplesPerSec);
    expect(adviseBatchSize(4, rates)).toMatch(/trains this model slowly/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
