// Checking a run configuration, in ONE place for the engine (before it builds a model) and the
// renderer (inline messages in the Model view): the schema's field checks in plain words, then the
// checks that need the architecture or the dataset (divisible sizes, code smaller than the image,
// batch larger than the training data…). Pure: no tfjs, no Node.
import type { z } from 'zod';
import { ModelConfig as ModelConfigSchema, type ModelKind } from './model-config';
import { isConv, isVae, MODEL_KIND_TRAITS } from './model-kinds';

/** A config with every default filled in and the hidden layers resolved for its kind. */
export type ResolvedModelConfig = z.output<typeof ModelConfigSchema> & { hidden: number[] };

/** Hidden layer widths (dense kinds) or the filters per stride-2 stage (conv kinds) when none are given. */
export const DEFAULT_HIDDEN: Record<ModelKind, number[]> = {
  dense: [],
  sparse: [],
  'deep-dense': [256, 128],
  vae: [512],
  conv: [32, 64],
  'conv-vae': [32, 64],
};

export { isVae, isConv };

/** Stride-2 stages a conv model may have: each halves the image's sides. */
export const MAX_CONV_STAGES = 6;

/** The smallest random crop a run may train on, in pixels a side. */
export const MIN_CROP = 8;

/** What the checks need to know about the images a run trains on. */
export interface DatasetInfo {
  /** Images used by the run (training + validation). */
  count: number;
  shape: [number, number, number];
}

export interface FieldError {
  /** Dotted path of the offending field, e.g. `latentDim`, `noise.level`, `hidden.1`; `config` for the whole. */
  field: string;
  message: string;
}

export type ValidationResult = { ok: true; config: ResolvedModelConfig } | { ok: false; errors: FieldError[] };

const num = (v: unknown) =>
  (typeof v === 'bigint' ? Number(v) : (v as number)).toLocaleString('en-US', { maximumFractionDigits: 6 });

/** One schema issue in plain words ("must be at least 1", not "Too small: expected number to be >=1"). */
export function plainIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'array')
        return `needs at least ${num(issue.minimum)} value${Number(issue.minimum) === 1 ? '' : 's'}`;
      return issue.inclusive ? `must be at least ${num(issue.minimum)}` : `must be more than ${num(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'array') return `takes at most ${num(issue.maximum)} values`;
      return issue.inclusive ? `must be at most ${num(issue.maximum)}` : `must be less than ${num(issue.maximum)}`;
    case 'invalid_type':
      if (issue.expected === 'int') return 'must be a whole number';
      if (issue.expected === 'number') return 'must be a number';
      if (issue.expected === 'array' || issue.expected === 'tuple') return 'must be a list of numbers';
      return `must be a ${issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown setting${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}

/** Parses a config and checks it against its architecture and the dataset it will train on. */
export function validateConfig(input: unknown, dataset?: DatasetInfo): ValidationResult {
  const parsed = ModelConfigSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => ({
        field: i.path.map(String).join('.') || 'config',
        message: plainIssue(i),
      })),
    };
  }
  const c = parsed.data;
  const config: ResolvedModelConfig = { ...c, hidden: c.hidden ?? DEFAULT_HIDDEN[c.kind] };
  const errors: FieldError[] = [];
  const [h, w, ch] = config.inputShape;
  if (isConv(config.kind)) {
    const stages = config.hidden.length;
    if (stages < 1 || stages > MAX_CONV_STAGES) {
      errors.push({
        field: 'hidden',
        message: `a convolutional model takes one filter count per stage, 1 to ${MAX_CONV_STAGES} stages (e.g. 32, 64, 128); got ${stages}`,
      });
    } else {
      const f = 2 ** stages;
      if (h % f !== 0 || w % f !== 0) {
        const fits = [1, 2, 3, 4, 5, 6].filter((s) => h % 2 ** s === 0 && w % 2 ** s === 0).pop();
        const hint = fits
          ? `use at most ${fits} stage${fits === 1 ? '' : 's'} for these images, or resize them`
          : 'resize the images to even sides';
        errors.push({
          field: 'inputShape',
          message: `${stages} conv stage${stages === 1 ? '' : 's'} halve the image ${stages} time${stages === 1 ? '' : 's'}, so height and width must be divisible by ${f}; these images are ${h}×${w} — ${hint}`,
        });
      }
    }
  }
  const { minHidden, title } = MODEL_KIND_TRAITS[config.kind];
  if (!isConv(config.kind) && config.hidden.length < minHidden) {
    errors.push({
      field: 'hidden',
      message: `a ${title.toLowerCase()} model needs at least ${minHidden === 1 ? 'one hidden layer' : `${minHidden} hidden layers`}`,
    });
  }
  if (config.loss === 'bce' && config.outputActivation !== 'sigmoid') {
    errors.push({ field: 'outputActivation', message: 'binary cross-entropy needs a sigmoid output (values in 0..1)' });
  }
  if (config.latentDim >= h * w * ch && !isVae(config.kind)) {
    errors.push({
      field: 'latentDim',
      message: `the code (${config.latentDim}) must be smaller than the image (${h * w * ch} values), or the model learns nothing`,
    });
  }
  if (config.klWarmupEpochs > 0 && !isVae(config.kind))
    errors.push({ field: 'klWarmupEpochs', message: 'KL warm-up applies to variational models only' });
  if ((config.noise.type === 'salt-pepper' || config.noise.type === 'masking') && config.noise.level > 1) {
    errors.push({ field: 'noise.level', message: 'a probability must be between 0 and 1' });
  }
  const crop = config.cropSize;
  if (crop > 0) {
    if (crop < MIN_CROP)
      errors.push({ field: 'cropSize', message: `a crop must be at least ${MIN_CROP} px a side (got ${crop})` });
    else if (h !== crop || w !== crop)
      errors.push({
        field: 'inputShape',
        message: `the model trains on ${crop}×${crop} crops, so its input must be ${crop}×${crop}×${ch} (it is ${h}×${w}×${ch})`,
      });
  }
  if (dataset && crop > 0) {
    const [dh, dw, dc] = dataset.shape;
    if (crop > dh || crop > dw)
      errors.push({
        field: 'cropSize',
        message: `the crop (${crop}×${crop}) is bigger than the dataset's ${dh}×${dw} pictures; choose at most ${Math.min(dh, dw)} px`,
      });
    if (dc !== ch)
      errors.push({
        field: 'inputShape',
        message: `the model expects ${ch} channel${ch === 1 ? '' : 's'} but the dataset's pictures have ${dc}`,
      });
  }
  if (dataset) {
    const [dh, dw, dc] = dataset.shape;
    if (crop === 0 && (dh !== h || dw !== w || dc !== ch)) {
      errors.push({
        field: 'inputShape',
        message: `the model expects ${h}×${w}×${ch} images but the dataset has ${dh}×${dw}×${dc}`,
      });
    }
    const valCount = Math.floor(dataset.count * config.validationSplit);
    const testCount = Math.floor(dataset.count * config.testSplit);
    const trainCount = dataset.count - valCount - testCount;
    if (config.testSplit > 0 && testCount < 1)
      errors.push({ field: 'testSplit', message: `with ${dataset.count} images no image is left for a test split` });
    if (trainCount < 1)
      errors.push({ field: 'testSplit', message: 'validation and test splits leave no image to train on' });
    if (config.validationSplit > 0 && valCount < 1)
      errors.push({
        field: 'validationSplit',
        message: `with ${dataset.count} images no image is left for validation`,
      });
    if (config.batchSize > trainCount) {
      errors.push({
        field: 'batchSize',
        message: `the batch (${config.batchSize}) is larger than the training data (${trainCount} images)`,
      });
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, config };
}
