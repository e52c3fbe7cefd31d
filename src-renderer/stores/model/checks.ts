// The form as the contract takes it, checked as the user types by the contract's validateConfig
// (the very checks the engine runs), one plain-words message per field, and the network summary
// (the contract's pure summarizeModel — no tfjs in the renderer).
import { computed } from 'vue';
import { isConv, isVae, summarizeModel, validateConfig, type ModelConfigInput } from '@contract';
import { parseHidden, type ModelForm } from './presets';
import { MNIST, type RunSource } from './source';

/** Where each optimizer usually trains: learning rates outside get a warning (not an error). */
export const LEARNING_RATES: Record<ModelForm['optimizer'], [number, number]> = {
  adam: [1e-5, 0.01],
  rmsprop: [1e-5, 0.01],
  sgd: [1e-4, 0.5],
};

export function useConfigChecks(form: ModelForm, src: RunSource) {
  const { inputShape, countError, count, dataset, labelNames } = src;
  const hidden = computed(() => parseHidden(form.hiddenText));
  /** What the model takes: the dataset's pictures, or with random crops the crop (the dataset keeps its size). */
  const modelShape = computed<[number, number, number]>(() =>
    form.cropSize > 0 ? [form.cropSize, form.cropSize, inputShape.value[2]] : inputShape.value,
  );

  /** The config as the contract takes it. */
  const config = computed<ModelConfigInput>(() => {
    const { hiddenText: _, noise, excludeLabels, klWarmupEpochs, augment, ...rest } = form;
    const vae = isVae(form.kind);
    return {
      ...rest,
      klWarmupEpochs: vae ? klWarmupEpochs : 0,
      excludeLabels: [...excludeLabels],
      inputShape: modelShape.value,
      hidden: hidden.value ?? [],
      noise: { ...noise },
      augment: { ...augment },
    };
  });

  const validation = computed(() =>
    validateConfig(
      config.value,
      countError.value ? undefined : { count: count.value, shape: dataset.value?.shape ?? MNIST.shape },
    ),
  );

  /** One plain-words message per field (`latentDim`, `hidden`, `noise.level`, `dataset`, `count`…). */
  const errors = computed<Record<string, string>>(() => {
    const out: Record<string, string> = {};
    const put = (field: string, message: string) => (out[field] ??= message);
    if (!dataset.value) put('dataset', 'This dataset is no longer in the workspace; choose another.');
    // the same examples as the field's hint in the Model view
    if (hidden.value === undefined)
      put('hidden', `write whole numbers separated by commas, e.g. ${isConv(form.kind) ? '32, 64, 128' : '256, 128'}`);
    if (countError.value) put('count', countError.value);
    if (labelNames.value.length && labelNames.value.every((_, i) => form.excludeLabels.includes(i)))
      put('excludeLabels', 'every label is left out: nothing would be left to train on');
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
    const r = validateConfig({
      kind,
      latentDim,
      activation,
      outputActivation,
      kernelSize,
      inputShape: modelShape.value,
      hidden: hidden.value,
    });
    return r.ok ? summarizeModel(r.config) : undefined;
  });

  /**
   * Accepted values that rarely train, in plain words (the run may still start): a learning rate
   * outside the range where the chosen optimizer usually learns.
   */
  const warnings = computed<Record<string, string>>(() => {
    const out: Record<string, string> = {};
    const lr = form.learningRate;
    const [lo, hi] = LEARNING_RATES[form.optimizer];
    if (Number.isFinite(lr) && lr > 0 && (lr < lo || lr > hi))
      out.learningRate =
        lr > hi
          ? `unusually high: ${form.optimizer === 'sgd' ? 'SGD' : form.optimizer === 'adam' ? 'Adam' : 'RMSprop'} usually trains between ${lo} and ${hi}; at ${lr} the loss will likely jump about or become NaN`
          : `unusually low: below ${lo} the model will barely change in a few epochs`;
    return out;
  });

  return { hidden, config, validation, errors, valid, summary, warnings };
}
