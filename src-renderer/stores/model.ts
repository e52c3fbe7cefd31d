// The run configuration being edited in the Model and Noise views (and started from the Train
// view): architecture, hyperparameters, noise, and the dataset it trains on. Checked as you type
// by the contract's validateConfig (the very checks the engine runs) and summarised by the
// contract's pure summarizeModel — no tfjs in the renderer.
import { defineStore } from 'pinia';
import { computed, onScopeDispose, reactive, ref, watch } from 'vue';
import {
  DEFAULT_HIDDEN,
  isConv,
  isVae,
  summarizeModel,
  validateConfig,
  type AugmentConfig,
  type CallRes,
  type DatasetManifest,
  type ModelConfigInput,
  type ModelDraft,
  type ModelKind,
  type NoiseConfig,
} from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { useDatasetsStore } from './datasets';
import { useRunsStore } from './runs';
import { useWorkspaceStore } from './workspace';
import { modelTitle } from '../components/training/describe';

/** Built-in MNIST needs no setup: the trainer has it. */
export const BUILTIN_MNIST = 'builtin:mnist';
const MNIST = { shape: [28, 28, 1] as [number, number, number], count: 10_000, name: 'MNIST digits (built in)' };

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
}

type Architecture = Pick<
  ModelForm,
  'kind' | 'latentDim' | 'activation' | 'outputActivation' | 'loss' | 'optimizer' | 'learningRate' | 'momentum' | 'batchSize' | 'beta' | 'l1' | 'noise' | 'kernelSize'
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
  { id: 'dense', label: 'Dense {n} → 128 → {n} (classic)', about: 'One code layer of 128 units: the autoencoder of the Keras tutorial.', arch: { ...BASE, kind: 'dense', latentDim: 128, hidden: [] } },
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
    arch: { ...BASE, kind: 'conv', latentDim: 16, hidden: [32, 64], batchSize: 32, learningRate: 2e-3, noise: { type: 'gaussian', level: 0.3 } },
  },
  {
    id: 'vae',
    label: 'Variational, 2-d code',
    about: 'Learns a distribution: generates new images and a 2-D map of the data.',
    arch: { ...BASE, kind: 'vae', latentDim: 2, hidden: [512], loss: 'bce', batchSize: 64 },
  },
  { id: 'sparse', label: 'Sparse, 64-d code', about: 'An L1 penalty keeps most code units near zero.', arch: { ...BASE, kind: 'sparse', latentDim: 64, hidden: [], l1: 1e-3 } },
  {
    id: 'photos-64',
    label: 'Photos 64×64 RGB: conv, 3 stages',
    about: 'Three stride-2 stages (32 → 64 → 128 filters, 64 → 8 px) and a 128-d code, for pictures imported at 64×64 in colour.',
    arch: { ...BASE, kind: 'conv', latentDim: 128, hidden: [32, 64, 128], batchSize: 64 },
  },
  {
    id: 'photos-128',
    label: 'Photos 128×128 RGB: conv, 4 stages',
    about: 'Four stride-2 stages (32 → 64 → 128 → 256 filters, 128 → 8 px) and a 256-d code, for pictures imported at 128×128 in colour.',
    arch: { ...BASE, kind: 'conv', latentDim: 256, hidden: [32, 64, 128, 256], batchSize: 32 },
  },
  {
    id: 'inspection',
    label: 'Inspection (defects): conv, L2 + SSIM',
    about:
      'Train on good pictures only (e.g. an MVTec-style import at 64×64); SSIM in the loss keeps the texture, so what the model cannot rebuild stands out. Calibrate and inspect with ae-studio inspect (docs/inspection.md).',
    arch: { ...BASE, kind: 'conv', latentDim: 64, hidden: [32, 64, 128], loss: 'l2+ssim', batchSize: 16 },
  },
];

/** Training steps below which a run will not reconstruct recognisably (with few images seen), and what to aim for. */
const FEW_STEPS = 300;
const FEW_IMAGES_SEEN = 20_000;
const TARGET_STEPS = 1_000;

/** Fields of the form a draft may carry, with the type each must have. */
const DRAFT_FIELDS: Record<string, 'string' | 'number' | 'boolean'> = {
  kind: 'string',
  latentDim: 'number',
  hiddenText: 'string',
  activation: 'string',
  outputActivation: 'string',
  loss: 'string',
  ssimWeight: 'number',
  optimizer: 'string',
  learningRate: 'number',
  momentum: 'number',
  batchSize: 'number',
  epochs: 'number',
  validationSplit: 'number',
  earlyStoppingPatience: 'number',
  seed: 'number',
  beta: 'number',
  l1: 'number',
  previewEvery: 'number',
  kernelSize: 'number',
  klWarmupEpochs: 'number',
  testSplit: 'number',
  balanceClasses: 'boolean',
};
/** How long the draft waits for more edits before it is saved in the workspace. */
export const DRAFT_SAVE_MS = 500;

/** "256, 128" → [256, 128]; undefined when a part is not a whole number. */
export function parseHidden(text: string): number[] | undefined {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.every((p) => /^\d+$/.test(p))) return undefined;
  return parts.map(Number);
}

export const useModelStore = defineStore('model', () => {
  const datasets = useDatasetsStore();
  const conv = PRESETS.find((p) => p.id === 'conv')!;
  const form = reactive<ModelForm>({
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
  });
  /** The preset whose architecture and training setup the form has now (undefined: custom). */
  const presetId = computed(() => {
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
  });
  /** `builtin:mnist` or a stored dataset's id. */
  const source = ref<string>(BUILTIN_MNIST);
  /** How many of the dataset's images a run uses. */
  const count = ref(6000);

  const manifest = computed<DatasetManifest | undefined>(() => datasets.datasets.find((d) => d.id === source.value));
  /** What the run trains on: name, image shape, images available. */
  const dataset = computed(() =>
    source.value === BUILTIN_MNIST ? MNIST : manifest.value ? { shape: manifest.value.shape as [number, number, number], count: manifest.value.count, name: manifest.value.name } : undefined,
  );
  /** The dataset's label names by label number (MNIST: the digits). */
  const labelNames = computed<string[]>(() => (source.value === BUILTIN_MNIST ? ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] : (manifest.value?.labelNames ?? [])));
  const inputShape = computed<[number, number, number]>(() => dataset.value?.shape ?? MNIST.shape);
  const valuesPerImage = computed(() => inputShape.value[0] * inputShape.value[1] * inputShape.value[2]);
  const hidden = computed(() => parseHidden(form.hiddenText));

  /** The config as the contract takes it. */
  const config = computed<ModelConfigInput>(() => {
    const { hiddenText: _, noise, excludeLabels, klWarmupEpochs, augment, ...rest } = form;
    const vae = isVae(form.kind);
    return {
      ...rest,
      klWarmupEpochs: vae ? klWarmupEpochs : 0,
      excludeLabels: [...excludeLabels],
      inputShape: inputShape.value,
      hidden: hidden.value ?? [],
      noise: { ...noise },
      augment: { ...augment },
    };
  });

  const minCount = computed(() => (source.value === BUILTIN_MNIST ? 100 : 10));
  const countError = computed(() => {
    const max = dataset.value?.count ?? 0;
    if (!Number.isInteger(count.value)) return 'must be a whole number';
    if (count.value < minCount.value) return `must be at least ${minCount.value}`;
    if (count.value > max) return `this dataset has ${max.toLocaleString('en-US')} images`;
    return undefined;
  });

  const validation = computed(() => validateConfig(config.value, countError.value ? undefined : { count: count.value, shape: dataset.value?.shape ?? MNIST.shape }));

  /** One plain-words message per field (`latentDim`, `hidden`, `noise.level`, `dataset`, `count`…). */
  const errors = computed<Record<string, string>>(() => {
    const out: Record<string, string> = {};
    const put = (field: string, message: string) => (out[field] ??= message);
    if (!dataset.value) put('dataset', 'This dataset is no longer in the workspace; choose another.');
    // the same examples as the field's hint in the Model view
    if (hidden.value === undefined) put('hidden', `write whole numbers separated by commas, e.g. ${isConv(form.kind) ? '32, 64, 128' : '256, 128'}`);
    if (countError.value) put('count', countError.value);
    if (labelNames.value.length && labelNames.value.every((_, i) => form.excludeLabels.includes(i))) put('excludeLabels', 'every label is left out: nothing would be left to train on');
    if (!validation.value.ok) {
      for (const e of validation.value.errors) {
        const field = e.field.startsWith('hidden') ? 'hidden' : e.field === 'inputShape' ? 'dataset' : e.field;
        put(field, e.message);
      }
    }
    return out;
  });
  const valid = computed(() => Object.keys(errors.value).length === 0);

  /** Layers, shapes and parameters; shown whenever the architecture itself is valid (a bad training field does not hide it). */
  const summary = computed(() => {
    if (hidden.value === undefined) return undefined;
    const { kind, latentDim, activation, outputActivation, kernelSize } = form;
    const r = validateConfig({ kind, latentDim, activation, outputActivation, kernelSize, inputShape: inputShape.value, hidden: hidden.value });
    return r.ok ? summarizeModel(r.config) : undefined;
  });

  /** Training steps per epoch and in all, and the epochs to suggest when that is too little to learn from. */
  const steps = computed(() => {
    const n = Math.min(count.value || 0, dataset.value?.count ?? 0);
    const trainCount = n - Math.floor(n * (Number(form.validationSplit) || 0));
    const perEpoch = trainCount > 0 && form.batchSize > 0 ? Math.ceil(trainCount / form.batchSize) : 0;
    const total = perEpoch * (Number(form.epochs) || 0);
    const few = perEpoch > 0 && total < FEW_STEPS && trainCount * form.epochs < FEW_IMAGES_SEEN;
    const suggested = perEpoch > 0 ? Math.min(500, Math.max(form.epochs + 1, Math.ceil(TARGET_STEPS / perEpoch))) : undefined;
    return { perEpoch, total, trainCount, few, suggested };
  });
  /** Plain words when the run is too short to give recognisable reconstructions. */
  const epochAdvice = computed(() => {
    const st = steps.value;
    if (!st.few || !st.suggested) return undefined;
    return `${st.total} training step${st.total === 1 ? '' : 's'} on ${st.trainCount.toLocaleString('en-US')} images will not give recognisable reconstructions: try ${st.suggested} epochs (about ${(st.suggested * st.perEpoch).toLocaleString('en-US')} steps).`;
  });
  function useSuggestedEpochs() {
    if (steps.value.suggested) form.epochs = steps.value.suggested;
  }

  /** The run's dataset as `runs:start` takes it. */
  const runDataset = computed(() => (source.value === BUILTIN_MNIST ? { builtin: 'mnist' as const, count: count.value } : { id: source.value, count: count.value }));
  /** The dataset as `noise:preview` takes it. */
  const previewDataset = computed(() => (source.value === BUILTIN_MNIST ? { builtin: 'mnist' as const } : { id: source.value }));
  /** A preset's label for the chosen dataset ("Dense 784 → 128 → 784"). */
  const presetLabel = (p: Preset) => p.label.replaceAll('{n}', String(valuesPerImage.value));
  /** One line describing what Train will start. */
  const describe = computed(() => {
    const noise = form.noise.type === 'none' || !form.noise.level ? '' : `, ${form.noise.type} noise ${form.noise.level}`;
    return `${form.kind} · ${form.latentDim}-d code · ${form.epochs} epoch${form.epochs === 1 ? '' : 's'}${noise}`;
  });

  function applyPreset(id: string) {
    const p = PRESETS.find((x) => x.id === id);
    if (!p) return;
    form.excludeLabels = [];
    form.balanceClasses = false;
    const { hidden: h, noise, ...arch } = p.arch;
    Object.assign(form, arch, { hiddenText: h.join(', '), noise: { ...noise } });
  }

  /** Changes the architecture and resets its layers to that kind's defaults. */
  function setKind(kind: ModelKind) {
    form.kind = kind;
    form.hiddenText = DEFAULT_HIDDEN[kind].join(', ');
    if (isVae(kind) && form.latentDim > 64) form.latentDim = 16;
  }

  /** Chooses what to train on; a stored dataset brings its own validation split and seed. */
  function chooseDataset(id: string) {
    source.value = id;
    form.excludeLabels = [];
    if (id === BUILTIN_MNIST) {
      count.value = Math.min(count.value, MNIST.count) || 6000;
      return;
    }
    const m = datasets.datasets.find((d) => d.id === id);
    if (!m) return;
    count.value = m.count;
    if (m.options) {
      form.validationSplit = m.options.validationSplit;
      form.seed = m.options.seed;
    }
  }

  /** "Train on all labels except …": leaves a label out of training, or takes it back. */
  function toggleExcluded(label: number) {
    form.excludeLabels = form.excludeLabels.includes(label) ? form.excludeLabels.filter((l) => l !== label) : [...form.excludeLabels, label].sort((a, b) => a - b);
  }

  function setNoise(noise: Partial<NoiseConfig>) {
    Object.assign(form.noise, noise);
    if (form.noise.type === 'none') form.noise.level = 0;
    else if (!form.noise.level) form.noise.level = form.noise.type === 'gaussian' ? 0.3 : 0.2;
  }

  /** Starts a run with this config; undefined (and nothing sent) when the form has errors. */
  async function train(): Promise<string | undefined> {
    if (!valid.value) return undefined;
    // a readable default name: what and on what ("Convolutional, 16-d code on Desktop icons"); the user can rename it
    const name = `${modelTitle(config.value)} on ${(dataset.value?.name ?? 'MNIST digits').replace(/ \(built in\)$/, '')}`;
    return useRunsStore().start(config.value, runDataset.value, name);
  }

  /** The first-run path: a small conv autoencoder on built-in MNIST, whatever the form says. */
  async function trainFirstRun(): Promise<string | undefined> {
    applyPreset('conv');
    chooseDataset(BUILTIN_MNIST);
    count.value = 6000;
    form.epochs = 5;
    return train();
  }

  /** The training step timed at a few batch sizes for the current architecture (asked for; it takes a few seconds). */
  const speed = ref<CallRes<'models:speed'> & { forBatch: number }>();
  const measuring = ref(false);
  const speedError = ref<string>();
  /** The model the speed table was measured for: any change of it makes the table stale. */
  const speedKey = computed(() => JSON.stringify({ ...config.value, epochs: 0, validationSplit: 0, earlyStoppingPatience: 0, seed: 0, previewEvery: 0 }));
  let measuredKey = '';
  async function measureSpeed() {
    if (!validation.value.ok) return;
    measuring.value = true;
    speedError.value = undefined;
    try {
      const forBatch = form.batchSize;
      const key = speedKey.value;
      const r = await useApi().invoke('models:speed', { config: config.value });
      if (key === speedKey.value) {
        measuredKey = key;
        speed.value = { ...r, forBatch };
      }
    } catch (err) {
      speedError.value = describeError(err);
    } finally {
      measuring.value = false;
    }
  }
  watch(speedKey, (key) => {
    if (key === measuredKey) return;
    speed.value = undefined;
    speedError.value = undefined;
  });

  // The draft lives in the workspace (settings.json): a reload or a restart finds the form as it was.
  const draft = computed<ModelDraft>(() => {
    const fields: ModelDraft['form'] = { noise: { ...form.noise }, augment: { ...form.augment } };
    for (const [k, type] of Object.entries(DRAFT_FIELDS)) {
      const v = (form as unknown as Record<string, unknown>)[k];
      if (typeof v === type && (type !== 'number' || Number.isFinite(v))) fields[k] = v as string | number | boolean;
    }
    return { dataset: source.value, count: Number.isFinite(count.value) ? Math.max(0, Math.round(count.value)) : 0, ...(presetId.value ? { presetId: presetId.value } : {}), form: fields };
  });
  /** Puts a saved draft back, field by field; a field of the wrong type is left as it is. */
  function restoreDraft(d: ModelDraft) {
    for (const [k, type] of Object.entries(DRAFT_FIELDS)) {
      const v = d.form[k];
      if (typeof v === type && (type !== 'number' || Number.isFinite(v))) (form as unknown as Record<string, unknown>)[k] = v;
    }
    const n = d.form.noise as { type?: unknown; level?: unknown } | undefined;
    if (n && typeof n === 'object' && ['none', 'gaussian', 'salt-pepper', 'masking'].includes(String(n.type)) && typeof n.level === 'number')
      form.noise = { type: n.type as NoiseConfig['type'], level: n.level };
    const a = d.form.augment as Partial<Record<keyof AugmentConfig, unknown>> | undefined;
    if (a && typeof a === 'object') {
      form.augment = {
        flip: a.flip === true,
        shift: typeof a.shift === 'number' && Number.isFinite(a.shift) ? a.shift : 0,
        rotate: typeof a.rotate === 'number' && Number.isFinite(a.rotate) ? a.rotate : 0,
        brightness: typeof a.brightness === 'number' && Number.isFinite(a.brightness) ? a.brightness : 0,
      };
    }
    source.value = d.dataset || BUILTIN_MNIST;
    if (d.count > 0) count.value = d.count;
  }
  /** No draft yet: start from the newest run's config and dataset, if any. */
  function restoreFromRun(s: { config: Record<string, unknown>; dataset: { builtin?: string; id?: string; count?: number } }) {
    const c = s.config;
    const f: ModelDraft['form'] = {};
    for (const k of Object.keys(DRAFT_FIELDS)) if (k in c) f[k] = c[k] as never;
    if (Array.isArray(c.hidden)) f.hiddenText = (c.hidden as number[]).join(', ');
    if (c.noise && typeof c.noise === 'object') f.noise = c.noise as never;
    if (c.augment && typeof c.augment === 'object') f.augment = c.augment as never;
    restoreDraft({ dataset: s.dataset.builtin ? BUILTIN_MNIST : (s.dataset.id ?? BUILTIN_MNIST), count: s.dataset.count ?? 0, form: f });
  }
  let restoredFor: string | undefined;
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  // a store that goes away (its Pinia is disposed) saves nothing afterwards
  onScopeDispose(() => clearTimeout(saveTimer));
  const workspace = useWorkspaceStore();
  watch(
    () => workspace.info?.path,
    async (path) => {
      if (!path || path === restoredFor) return;
      restoredFor = undefined; // no saving while the form is being put back
      const saved = workspace.info?.settings.modelDraft;
      if (saved) restoreDraft(saved);
      else {
        const runs = useRunsStore();
        await runs.refresh();
        const newest = runs.order.map((id) => runs.runs[id]?.summary).find((x) => x && x.status !== 'damaged');
        if (newest) restoreFromRun(newest as never);
      }
      if (source.value !== BUILTIN_MNIST) void datasets.refresh();
      restoredFor = path;
    },
    { immediate: true },
  );
  watch(
    () => JSON.stringify(draft.value),
    () => {
      if (!restoredFor) return;
      clearTimeout(saveTimer);
      const path = restoredFor;
      saveTimer = setTimeout(() => {
        if (restoredFor === path) void workspace.setSettings({ modelDraft: draft.value });
      }, DRAFT_SAVE_MS);
    },
  );

  // A dataset the user just imported is what they want to train on next.
  datasets.onImported((m) => {
    chooseDataset(m.id);
    if (steps.value.few) useSuggestedEpochs();
  });

  return {
    form,
    presetId,
    source,
    count,
    manifest,
    dataset,
    labelNames,
    toggleExcluded,
    inputShape,
    valuesPerImage,
    config,
    validation,
    errors,
    valid,
    summary,
    steps,
    epochAdvice,
    useSuggestedEpochs,
    runDataset,
    previewDataset,
    describe,
    presetLabel,
    applyPreset,
    setKind,
    chooseDataset,
    setNoise,
    train,
    trainFirstRun,
    speed,
    measuring,
    speedError,
    measureSpeed,
    draft,
    restoreDraft,
  };
});
