import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { applyNoise, previewNoise, readTidy } from '../../../../src-main/engine';

const grey = () => tf.fill([8, 28, 28, 1], 0.5);
const stats = (t: tf.Tensor) => {
  const d = Array.from(t.dataSync() as Float32Array);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  return { d, mean, std };
};

describe('noise', () => {
  const before = tf.memory().numTensors;
  afterAll(() => expect(tf.memory().numTensors).toBe(before));

  it('gaussian: mean kept, σ as asked (on a mid-grey image, where clipping is rare)', () => {
    const x = grey();
    const y = applyNoise(x, { type: 'gaussian', level: 0.1 }, 3);
    const { mean, std } = stats(y);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(std).toBeGreaterThan(0.09);
    expect(std).toBeLessThan(0.11);
    expect(Math.min(...y.dataSync())).toBeGreaterThanOrEqual(0);
    expect(x.dataSync().every((v) => v === 0.5)).toBe(true); // the clean target is untouched
    tf.dispose([x, y]);
  });

  it('salt-and-pepper: a fraction p of pixels become 0 or 1, half each', () => {
    const x = grey();
    const y = applyNoise(x, { type: 'salt-pepper', level: 0.2 }, 4);
    const { d } = stats(y);
    const salt = d.filter((v) => v === 1).length / d.length;
    const pepper = d.filter((v) => v === 0).length / d.length;
    expect(salt + pepper).toBeGreaterThan(0.18);
    expect(salt + pepper).toBeLessThan(0.22);
    expect(Math.abs(salt - pepper)).toBeLessThan(0.03);
    expect(d.filter((v) => v !== 0 && v !== 1 && v !== 0.5).length).toBe(0);
    tf.dispose([x, y]);
  });

  it('masking: a fraction p of pixels become 0', () => {
    const x = grey();
    const y = applyNoise(x, { type: 'masking', level: 0.3 }, 5);
    const { d } = stats(y);
    const zeros = d.filter((v) => v === 0).length / d.length;
    expect(zeros).toBeGreaterThan(0.27);
    expect(zeros).toBeLessThan(0.33);
    tf.dispose([x, y]);
  });

  it('none and level 0 return an equal copy; a seed repeats, a new seed differs', () => {
    const x = grey();
    const a = applyNoise(x, { type: 'none', level: 0.4 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(x.dataSync()));
    const g1 = applyNoise(x, { type: 'gaussian', level: 0.3 }, 9);
    const g2 = applyNoise(x, { type: 'gaussian', level: 0.3 }, 9);
    const g3 = applyNoise(x, { type: 'gaussian', level: 0.3 }, 10);
    expect(Array.from(g1.dataSync())).toEqual(Array.from(g2.dataSync()));
    expect(Array.from(g1.dataSync())).not.toEqual(Array.from(g3.dataSync()));
    tf.dispose([x, a, g1, g2, g3]);
  });

  it('previewNoise works on uint8 images for the UI', () => {
    const img = new Uint8Array(2 * 28 * 28).fill(128);
    const out = previewNoise(img, [28, 28, 1], { type: 'masking', level: 0.5 }, 1);
    expect(out.length).toBe(img.length);
    const zeros = out.filter((v) => v === 0).length / out.length;
    expect(zeros).toBeGreaterThan(0.4);
    expect(zeros).toBeLessThan(0.6);
  });
});

describe('readTidy', () => {
  it('returns the values of the tensor made in the tidy and frees every tensor it made', () => {
    const before = tf.memory().numTensors;
    const v = readTidy(() => tf.mul(tf.range(0, 5), tf.scalar(2)));
    expect(Array.from(v)).toEqual([0, 2, 4, 6, 8]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
