// The Noise view's live preview: the first images of the chosen dataset, clean and
// corrupted with the chosen noise, computed in the trainer process by the engine's own noise
// function (the one training uses). Images are base64 uint8 pixels of `shape`.
import { z } from 'zod';
import { AugmentConfig, NoiseConfig } from './model-config';
import { DatasetId } from './datasets';

/** Built-in MNIST (no setup) or a dataset from the workspace's store. */
export const NoisePreviewDataset = z.union([
  z.object({ builtin: z.enum(['mnist']) }).strict(),
  z.object({ id: DatasetId }).strict(),
]);

export const noiseCalls = {
  /** The first `count` images of a dataset, clean and with the noise applied (repeatable with `seed`). */
  'noise:preview': {
    req: z
      .object({
        dataset: NoisePreviewDataset,
        noise: NoiseConfig,
        count: z.number().int().min(1).max(64).default(12),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .default(1),
        /** Augmentation applied first (both rows then show augmented images, as training sees them). */
        augment: AugmentConfig.optional(),
      })
      .strict(),
    res: z.object({
      shape: z.tuple([z.number(), z.number(), z.number()]),
      clean: z.array(z.string()),
      noisy: z.array(z.string()),
    }),
  },
};
