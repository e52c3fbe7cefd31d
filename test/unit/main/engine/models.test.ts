import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-node';
import { buildAutoencoder, parameterCount, validateConfig, type ModelConfigInput } from '../../../../src-main/engine';

function build(input: ModelConfigInput) {
  const r = validateConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { ae: buildAutoencoder(r.config), config: r.config };
}

describe('model builders', () => {
  it('the classic dense AE is 784 → 128 → 784 with 201,616 parameters', () => {
    const { ae } = build({ kind: 'dense', inputShape: [28, 28, 1], latentDim: 128 });
    expect(parameterCount(ae)).toBe(784 * 128 + 128 + 128 * 784 + 784);
    ae.encoder.dispose();
    ae.decoder.dispose();
  });

  it.each([
    ['dense', [28, 28, 1], 32],
    ['deep-dense', [28, 28, 1], 32],
    ['sparse', [28, 28, 1], 64],
    ['conv', [28, 28, 1], 16],
    ['conv', [32, 32, 3], 16],
    ['vae', [28, 28, 1], 2],
    ['conv-vae', [32, 32, 3], 8],
  ] as const)('%s on %j with a %i-d code has the right shapes', (kind, inputShape, latentDim) => {
    const { ae } = build({ kind, inputShape: [...inputShape], latentDim });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.zeros([3, ...inputShape]);
      const enc = ae.encoder.predict(x) as tf.Tensor | tf.Tensor[];
      const z = Array.isArray(enc) ? enc[0] : enc;
      if (kind.includes('vae')) expect((enc as tf.Tensor[]).map((t) => t.shape)).toEqual([[3, latentDim], [3, latentDim]]);
      expect(z.shape).toEqual([3, latentDim]);
      const y = ae.decoder.predict(z) as tf.Tensor;
      expect(y.shape).toEqual([3, ...inputShape]);
      const v = y.dataSync();
      expect(v.every((p) => p >= 0 && p <= 1)).toBe(true); // sigmoid output
    });
    expect(tf.memory().numTensors).toBe(before);
    ae.encoder.dispose();
    ae.decoder.dispose();
  });
});
