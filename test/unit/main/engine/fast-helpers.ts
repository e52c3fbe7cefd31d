// What the fast-step tests share: a model config resolved as a run would (batch 16, seed 3), and a
// model with its fast step run on a clean batch and on a noisy copy of it (the clean one the target).
import { expect } from 'vitest';
import { tf } from '../../../../src-main/engine/tf';
import { buildAutoencoder, validateConfig, type ModelConfigInput } from '../../../../src-main/engine';
import { trainableVariables, type Autoencoder } from '../../../../src-main/engine/models';
import type { ModelConfig } from '../../../../src-main/engine/config';
import { FastStep } from '../../../../src-main/engine/fast/step';

export function resolveConfig(config: ModelConfigInput): ModelConfig {
  const r = validateConfig({ batchSize: 16, seed: 3, ...config }, { count: 1000, shape: config.inputShape });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

export interface FastStepCtx {
  c: ModelConfig;
  ae: Autoencoder;
  vars: tf.Variable[];
  fast: FastStep;
  input: tf.Tensor;
  x: tf.Tensor;
}

/**
 * Builds `config`'s model and fast step, runs `check` on the batch `images(count, shape)` and on a
 * copy with Gaussian noise of `noiseStd` (clipped to [0, 1]; the clean batch is the target), frees
 * everything and checks that no tensor is left.
 */
export function onCleanAndNoisy(
  config: ModelConfigInput,
  count: number,
  images: (count: number, shape: [number, number, number]) => tf.Tensor,
  noiseStd: number,
  check: (ctx: FastStepCtx) => void,
): void {
  const c = resolveConfig(config);
  const before = tf.memory().numTensors;
  const ae = buildAutoencoder(c);
  const vars = trainableVariables(ae);
  const r = FastStep.tryCompile(ae, c, vars);
  expect('step' in r ? null : r.reason, 'the fast step supports every model models.ts builds').toBeNull();
  const fast = (r as { step: FastStep }).step;
  const x = images(count, c.inputShape);
  const noisy = tf.tidy(() => tf.clipByValue(tf.add(x, tf.randomNormal(x.shape, 0, noiseStd, 'float32', 2)), 0, 1));
  for (const input of [x, noisy]) check({ c, ae, vars, fast, input, x });
  tf.dispose([x, noisy]);
  fast.dispose();
  ae.encoder.dispose();
  ae.decoder.dispose();
  expect(tf.memory().numTensors).toBe(before);
}
