// One validated object describes a run (issue #3): architecture, hyperparameters and noise.
// `validateConfig` also checks the config against the dataset and names the offending field.
export { MODEL_KINDS, NoiseConfig, ModelConfig, type ModelKind, type ModelConfigInput } from '../contract/model-config';
import { ModelConfig as ModelConfigSchema, type ModelKind } from '../contract/model-config';
import type { z } from 'zod';

export type ModelConfig = z.output<typeof ModelConfigSchema> & { hidden: number[] };

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
  const parsed = ModelConfigSchema.safeParse(input);
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
