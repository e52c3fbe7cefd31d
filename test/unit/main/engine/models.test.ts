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
    // conv (reference model B of test/bench/train.ts): Conv(32) 320 + Conv(64) 18,496 + Dense(16) 50,192 | Dense(3136) 53,312 + ConvT(32) 18,464 + ConvT(1) 289
    ['conv', { latentDim: 16, hidden: [32, 64] }, 320 + 18_496 + 50_192 + 53_312 + 18_464 + 289],
    // VAE (model C): Dense(512) 401,920 + μ 1,026 + log σ² 1,026 | Dense(512) 1,536 + Dense(784) 402,192
    ['vae', { latentDim: 2, hidden: [512] }, 401_920 + 1_026 + 1_026 + 1_536 + 402_192],
    // deep dense 784 → 256 → 64 → 16 → 64 → 256 → 784
    ['deep-dense', { latentDim: 16, hidden: [256, 64] }, 200_960 + 16_448 + 1_040 + 1_088 + 16_640 + 201_488],
  ] as const)('%s has the expected parameter count', (kind, extra, expected) => {
    const { ae } = build({ kind, inputShape: [28, 28, 1], ...extra, hidden: [...extra.hidden] });
    expect(parameterCount(ae)).toBe(expected);
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
      if (kind.includes('vae'))
        expect((enc as tf.Tensor[]).map((t) => t.shape)).toEqual([
          [3, latentDim],
          [3, latentDim],
        ]);
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
