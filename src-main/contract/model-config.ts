// The run configuration's schema, shared by the host (request validation), the renderer (forms)
// and the engine (which adds the checks against a dataset in src-main/engine/config.ts).
import { z } from 'zod';

export const MODEL_KINDS = ['dense', 'deep-dense', 'conv', 'vae', 'conv-vae', 'sparse'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export const NoiseConfig = z
  .object({
    /** none | gaussian (level = σ) | salt-pepper (level = p) | masking (level = p of pixels zeroed). */
    type: z.enum(['none', 'gaussian', 'salt-pepper', 'masking']).default('none'),
    level: z.number().min(0).max(2).default(0),
  })
  .strict();
export type NoiseConfig = z.infer<typeof NoiseConfig>;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** Random changes to each training image (per batch), for small datasets; all off by default. */
export const AugmentConfig = z
  .object({
    /** Mirror left-right half of the time. */
    flip: z.boolean().default(false),
    /** Shift by up to this share of the width / height. */
    shift: z.number().min(0).max(0.3).default(0),
    /** Rotate by up to this many degrees either way. */
    rotate: z.number().min(0).max(45).default(0),
    /** Scale brightness by up to ± this share. */
    brightness: z.number().min(0).max(0.5).default(0),
  })
  .strict();
export type AugmentConfig = z.infer<typeof AugmentConfig>;

export const ModelConfig = z
  .object({
    kind: z.enum(MODEL_KINDS).default('dense'),
    /** H × W × C of the model's input: the dataset's images, or with `cropSize` the crops. */
    inputShape: z.tuple([int(1, 1024), int(1, 1024), int(1, 4)]),
    /** Size of the code (bottleneck). */
    latentDim: int(1, 4096).default(128),
    /** Widths of the hidden dense layers (dense kinds), or the filters of each stride-2 conv stage (conv kinds, 1–6 stages); defaults per kind. */
    hidden: z.array(int(1, 8192)).max(8).optional(),
    /** Conv kinds: the square kernel of every convolution, 3 or 5 (default 3). */
    kernelSize: z.literal([3, 5]).default(3),
    activation: z.enum(['relu', 'elu', 'tanh', 'sigmoid', 'leaky-relu']).default('relu'),
    outputActivation: z.enum(['sigmoid', 'linear']).default('sigmoid'),
    /**
     * The reconstruction loss: mse, bce, ssim (1 − mean SSIM, 11×11 Gaussian window) or l2+ssim
     * ((1 − ssimWeight)·MSE + ssimWeight·(1 − SSIM)), on the graph step like the others.
     */
    loss: z.enum(['mse', 'bce', 'ssim', 'l2+ssim']).default('mse'),
    /** l2+ssim: the SSIM term's share, from 0 (MSE only) to 1 (SSIM only). */
    ssimWeight: z.number().min(0).max(1).default(0.5),
    optimizer: z.enum(['adam', 'sgd', 'rmsprop']).default('adam'),
    learningRate: z.number().positive().max(1e6).default(1e-3),
    /** SGD / RMSprop momentum. */
    momentum: z.number().min(0).max(0.999).default(0.9),
    batchSize: int(1, 8192).default(128),
    epochs: int(1, 10_000).default(5),
    /** Fraction of the dataset held out for validation. */
    validationSplit: z.number().min(0).max(0.5).default(0.1),
    /** Fraction of the dataset kept apart as a test split, never seen in training or early stopping; measured once at the end. */
    testSplit: z.number().min(0).max(0.5).default(0),
    /** Labels left out of the training and validation images (e.g. train on normal data only); the test split keeps them. */
    excludeLabels: z.array(int(0, 1_000_000)).max(1000).default([]),
    /** Draw training batches so every label is equally likely (class-balanced sampling); needs labels. */
    balanceClasses: z.boolean().default(false),
    /** Stop after this many epochs without a better validation loss; 0 = off. */
    earlyStoppingPatience: int(0, 1000).default(0),
    seed: int(0, 2 ** 31 - 1).default(42),
    /** VAE: weight of the KL term. */
    beta: z.number().min(0).max(1000).default(1),
    /** VAE: β grows linearly from 0 to `beta` over this many first epochs (KL warm-up); 0 = off. */
    klWarmupEpochs: int(0, 10_000).default(0),
    /** Sparse AE: weight of the L1 activity penalty on the code. */
    l1: z.number().min(0).max(100).default(1e-3),
    noise: NoiseConfig.default({ type: 'none', level: 0 }),
    augment: AugmentConfig.default({ flip: false, shift: 0, rotate: 0, brightness: 0 }),
    /**
     * Train on random crops of this many pixels a side of the dataset's (bigger) pictures: one crop
     * per picture per epoch, placed by (seed, epoch, picture); validation uses fixed crops. The
     * model's `inputShape` is the crop. 0 = off (the model takes the whole picture).
     */
    cropSize: int(0, 1024).default(0),
    /** Send a reconstruction preview every N batches. */
    previewEvery: int(1, 1_000_000).default(50),
  })
  .strict();
export type ModelConfigInput = z.input<typeof ModelConfig>;
/** A parsed config: every default filled in; `hidden` absent means its kind's default (the engine resolves it: ResolvedModelConfig). */
export type ModelConfig = z.output<typeof ModelConfig>;
