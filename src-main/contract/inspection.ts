// The studio's default setup for an inspection run (train on good pictures only, find defects by
// what the model cannot reconstruct): `ae-studio train --preset inspection`, and the Model view's
// preset. The map, score and threshold a run inspects with are measured after training
// (src-main/engine/inspect/calibration.ts) and kept in its model/inspection.json.
import type { ModelConfigInput } from './model-config';

export const RUN_PRESETS = ['inspection'] as const;
export type RunPreset = (typeof RUN_PRESETS)[number];

/**
 * A convolutional autoencoder with 3 stride-2 stages (2 for pictures under 32 px or not divisible
 * by 8), trained with L2 + SSIM (Bergmann et al.: the SSIM objective keeps textures' structure),
 * a tenth of the good pictures held out for the normalisation and the threshold, early stopping.
 */
export function inspectionPreset(shape: readonly [number, number, number]): ModelConfigInput {
  const [h, w] = shape;
  const stages = h >= 32 && w >= 32 && h % 8 === 0 && w % 8 === 0 ? [32, 64, 128] : [32, 64];
  return {
    kind: 'conv',
    inputShape: [shape[0], shape[1], shape[2]],
    hidden: stages,
    latentDim: 64,
    loss: 'l2+ssim',
    ssimWeight: 0.5,
    outputActivation: 'sigmoid',
    optimizer: 'adam',
    learningRate: 1e-3,
    batchSize: 16,
    epochs: 60,
    validationSplit: 0.1,
    earlyStoppingPatience: 10,
  };
}
