// One validated object describes a run (issue #3): architecture, hyperparameters and noise.
// `validateConfig` also checks the config against the dataset and names the offending field.
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

export const ModelConfig = z
  .object({
    kind: z.enum(MODEL_KINDS).default('dense'),
    /** H × W × C of the dataset's images. */
    inputShape: z.tuple([int(1, 1024), int(1, 1024), int(1, 4)]),
    /** Size of the code (bottleneck). */
    latentDim: int(1, 4096).default(128),
    /** Widths of the hidden dense layers (dense kinds) or filters of the two conv layers (conv kinds); defaults per kind. */
    hidden: z.array(int(1, 8192)).max(8).optional(),
    activation: z.enum(['relu', 'elu', 'tanh', 'sigmoid', 'leaky-relu']).default('relu'),
    outputActivation: z.enum(['sigmoid', 'linear']).default('sigmoid'),
    loss: z.enum(['mse', 'bce']).default('mse'),
    optimizer: z.enum(['adam', 'sgd', 'rmsprop']).default('adam'),
    learningRate: z.number().positive().max(1e6).default(1e-3),
    /** SGD / RMSprop momentum. */
    momentum: z.number().min(0).max(0.999).default(0.9),
    batchSize: int(1, 8192).default(128),
    epochs: int(1, 10_000).default(5),
    /** Fraction of the dataset held out for validation. */
    validationSplit: z.number().min(0).max(0.5).default(0.1),
    /** Stop after this many epochs without a better validation loss; 0 = off. */
    earlyStoppingPatience: int(0, 1000).default(0),
    seed: int(0, 2 ** 31 - 1).default(42),
    /** VAE: weight of the KL term. */
    beta: z.number().min(0).max(1000).default(1),
    /** Sparse AE: weight of the L1 activity penalty on the code. */
    l1: z.number().min(0).max(100).default(1e-3),
    noise: NoiseConfig.default({ type: 'none', level: 0 }),
    /** Send a reconstruction preview every N batches. */
    previewEvery: int(1, 1_000_000).default(50),
  })
  .strict();
export type ModelConfigInput = z.input<typeof ModelConfig>;
export type ModelConfig = z.output<typeof ModelConfig> & { hidden: number[] };

export const DEFAULT_HIDDEN: Record<ModelKind, number[]> = {
  dense: [],
  sparse: [],
  'deep-dense': [256, 128],
  vae: [512],
  conv: [32, 64],
  'conv-vae': [32, 64],
};

export const isVae = (kind: ModelKind) => kind === 'vae' || kind === 'conv-vae';
export const isConv = (kind: ModelKind) => kind === 'conv' || kind === 'conv-vae';

export interface DatasetInfo {
  count: number;
  shape: [number, number, number];
}

export interface FieldError {
  field: string;
  message: string;
}

export type ValidationResult = { ok: true; config: ModelConfig } | { ok: false; errors: FieldError[] };

/** Parses a config and checks it against the dataset it will train on. */
export function validateConfig(input: unknown, dataset?: DatasetInfo): ValidationResult {
  const parsed = ModelConfig.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'config', message: i.message })),
    };
  }
  const c = parsed.data;
  const config: ModelConfig = { ...c, hidden: c.hidden ?? DEFAULT_HIDDEN[c.kind] };
  const errors: FieldError[] = [];
  const [h, w, ch] = config.inputShape;
  if (isConv(config.kind)) {
    if (config.hidden.length !== 2) errors.push({ field: 'hidden', message: 'a convolutional model takes exactly two filter counts, e.g. [32, 64]' });
    if (h % 4 !== 0 || w % 4 !== 0) errors.push({ field: 'inputShape', message: `a convolutional model needs height and width divisible by 4 (two stride-2 layers); got ${h}×${w}` });
  }
  if (config.kind === 'deep-dense' && config.hidden.length < 1) errors.push({ field: 'hidden', message: 'a deep dense model needs at least one hidden layer' });
  if (config.loss === 'bce' && config.outputActivation !== 'sigmoid') {
    errors.push({ field: 'outputActivation', message: 'binary cross-entropy needs a sigmoid output (values in 0..1)' });
  }
  if (config.latentDim >= h * w * ch && !isVae(config.kind)) {
    errors.push({ field: 'latentDim', message: `the code (${config.latentDim}) must be smaller than the image (${h * w * ch} values), or the model learns nothing` });
  }
  if ((config.noise.type === 'salt-pepper' || config.noise.type === 'masking') && config.noise.level > 1) {
    errors.push({ field: 'noise.level', message: 'a probability must be between 0 and 1' });
  }
  if (dataset) {
    const [dh, dw, dc] = dataset.shape;
    if (dh !== h || dw !== w || dc !== ch) {
      errors.push({ field: 'inputShape', message: `the model expects ${h}×${w}×${ch} images but the dataset has ${dh}×${dw}×${dc}` });
    }
    const valCount = Math.floor(dataset.count * config.validationSplit);
    const trainCount = dataset.count - valCount;
    if (config.validationSplit > 0 && valCount < 1) errors.push({ field: 'validationSplit', message: `with ${dataset.count} images no image is left for validation` });
    if (config.batchSize > trainCount) {
      errors.push({ field: 'batchSize', message: `the batch (${config.batchSize}) is larger than the training data (${trainCount} images)` });
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, config };
}
