// The Model view's form and its presets: what the form edits (hidden layers as text), the
// architectures a preset sets, and which preset the form matches now.
import type { AugmentConfig, ModelConfigInput, ModelKind, NoiseConfig } from '@contract';

type Activation = NonNullable<ModelConfigInput['activation']>;

/** Everything the form edits; hidden layers as text ("256, 128") so a half-typed list is fine. */
export interface ModelForm {
  kind: ModelKind;
  latentDim: number;
  hiddenText: string;
  activation: Activation;
  outputActivation: 'sigmoid' | 'linear';
  loss: 'mse' | 'bce' | 'ssim' | 'l2+ssim';
  /** l2+ssim: the SSIM term's share (0–1). */
  ssimWeight: number;
  optimizer: 'adam' | 'sgd' | 'rmsprop';
  learningRate: number;
  momentum: number;
  batchSize: number;
  epochs: number;
  validationSplit: number;
  earlyStoppingPatience: number;
  seed: number;
  beta: number;
  l1: number;
  noise: NoiseConfig;
  /** Random flips, shifts, rotations and brightness per training image (all off by default). */
  augment: AugmentConfig;
  previewEvery: number;
  /** Conv kinds: 3×3 or 5×5 kernels. */
  kernelSize: 3 | 5;
  /** VAEs: epochs over which β grows from 0 (KL warm-up); 0 = off. */
  klWarmupEpochs: number;
  /** Share kept apart as a test split, measured once at the end. */
  testSplit: number;
  /** Labels left out of training ("train on all labels except …"). */
  excludeLabels: number[];
  /** Class-balanced sampling of training batches. */
  balanceClasses: boolean;
  /** Train on random crops of this many pixels a side of the dataset's (bigger) pictures; 0 = whole pictures. */
  cropSize: number;
}

export type Architecture = Pick<
  ModelForm,
  | 'kind'
  | 'latentDim'
  | 'activation'
  | 'outputActivation'
  | 'loss'
  | 'optimizer'
  | 'learningRate'
  | 'momentum'
  | 'batchSize'
  | 'beta'
  | 'l1'
  | 'noise'
  | 'kernelSize'
> & { hidden: number[] };

const BASE: Omit<Architecture, 'kind' | 'latentDim' | 'hidden'> = {
  activation: 'relu',
  outputActivation: 'sigmoid',
  loss: 'mse',
  optimizer: 'adam',
  learningRate: 1e-3,
  momentum: 0.9,
  batchSize: 128,
  beta: 1,
  l1: 1e-3,
  noise: { type: 'none', level: 0 },
  kernelSize: 3,
};

export interface Preset {
  id: string;
  /** `{n}` is replaced with the values per image (784 for MNIST). */
  label: string;
  about: string;
  arch: Architecture;
}

export const PRESETS: Preset[] = [
  {
    id: 'dense',
    label: 'Dense {n} → 128 → {n} (classic)',
    about: 'One code layer of 128 units: the autoencoder of the Keras tutorial.',
    arch: { ...BASE, kind: 'dense', latentDim: 128, hidden: [] },
  },
  {
    id: 'deep-dense',
    label: 'Deep dense {n} → 256 → 128 → 32',
    about: 'Two hidden layers each side squeeze the image into a 32-d code.',
    arch: { ...BASE, kind: 'deep-dense', latentDim: 32, hidden: [256, 128] },
  },
  {
    id: 'conv',
    label: 'Convolutional, 16-d code',
    about: 'Two stride-2 convolutions each side; sharp reconstructions from a small code.',
    arch: { ...BASE, kind: 'conv', latentDim: 16, hidden: [32, 64], batchSize: 32, learningRate: 2e-3 },
  },
  {
    id: 'denoising-conv',
    label: 'Denoising convolutional (Gaussian σ 0.3)',
    about: 'The conv model fed noisy images and asked for the clean ones.',
    arch: {
      ...BASE,
      kind: 'conv',
      latentDim: 16,
      hidden: [32, 64],
      batchSize: 32,
      learningRate: 2e-3,
      noise: { type: 'gaussian', level: 0.3 },
    },
  },
  {
    id: 'vae',
    label: 'Variational, 2-d code',
    about: 'Learns a distribution: generates new images and a 2-D map of the data.',
    arch: { ...BASE, kind: 'vae', latentDim: 2, hidden: [512], loss: 'bce', batchSize: 64 },
  },
  {
    id: 'sparse',
    label: 'Sparse, 64-d code',
    about: 'An L1 penalty keeps most code units near zero.',
    arch: { ...BASE, kind: 'sparse', latentDim: 64, hidden: [], l1: 1e-3 },
  },
  {
    id: 'photos-64',
    label: 'Photos 64×64 RGB: conv, 3 stages',
    about:
      'Three stride-2 stages (32 → 64 → 128 filters, 64 → 8 px) and a 128-d code, for pictures imported at 64×64 in colour.',
    arch: { ...BASE, kind: 'conv', latentDim: 128, hidden: [32, 64, 128], batchSize: 64 },
  },
  {
    id: 'photos-128',
    label: 'Photos 128×128 RGB: conv, 4 stages',
    about:
      'Four stride-2 stages (32 → 64 → 128 → 256 filters, 128 → 8 px) and a 256-d code, for pictures imported at 128×128 in colour.',
    arch: { ...BASE, kind: 'conv', latentDim: 256, hidden: [32, 64, 128, 256], batchSize: 32 },
  },
  {
    id: 'inspection',
    label: 'Inspection (defects): conv, L2',
    about:
      'Train on good pictures only (e.g. an MVTec-style import at 64×64); what the model cannot rebuild stands out on the anomaly map. The SSIM losses are in Loss. Calibrate and inspect in the Gallery or with ae-studio inspect (docs/inspection.md).',
    arch: { ...BASE, kind: 'conv', latentDim: 64, hidden: [32, 64, 128], loss: 'mse', batchSize: 16 },
  },
];

/** "256, 128" → [256, 128]; undefined when a part is not a whole number. */
export function parseHidden(text: string): number[] | undefined {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.every((p) => /^\d+$/.test(p))) return undefined;
  return parts.map(Number);
}

/**
 * A random crop for pictures of `shape` that the inspection preset would not crop (under 256 px):
 * half the shorter side, rounded down to a multiple of 16 (at least 16), for the Model view's switch.
 */
export function suggestedCrop(shape: readonly [number, number, number]): number {
  return Math.max(16, Math.floor(Math.min(shape[0], shape[1]) / 2 / 16) * 16);
}

/** A fresh form: the conv preset, 5 epochs, nothing left out, no augmentation. */
export function newForm(): ModelForm {
  const conv = PRESETS.find((p) => p.id === 'conv')!;
  return {
    ...conv.arch,
    noise: { ...conv.arch.noise },
    hiddenText: conv.arch.hidden.join(', '),
    epochs: 5,
    validationSplit: 0.1,
    earlyStoppingPatience: 0,
    seed: 42,
    previewEvery: 20,
    klWarmupEpochs: 0,
    ssimWeight: 0.5,
    testSplit: 0,
    excludeLabels: [],
    balanceClasses: false,
    augment: { flip: false, shift: 0, rotate: 0, brightness: 0 },
    cropSize: 0,
  };
}

/** The preset whose architecture and training setup `form` has (undefined: custom). */
export function matchingPreset(form: ModelForm): string | undefined {
  const h = parseHidden(form.hiddenText);
  return PRESETS.find((p) => {
    const a = p.arch;
    return (
      a.kind === form.kind &&
      a.latentDim === form.latentDim &&
      !!h &&
      a.hidden.join(',') === h.join(',') &&
      a.activation === form.activation &&
      a.outputActivation === form.outputActivation &&
      a.loss === form.loss &&
      a.optimizer === form.optimizer &&
      a.learningRate === form.learningRate &&
      a.batchSize === form.batchSize &&
      a.noise.type === form.noise.type &&
      (a.noise.type === 'none' || a.noise.level === form.noise.level)
    );
  })?.id;
}
