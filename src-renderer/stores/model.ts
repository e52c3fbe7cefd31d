// The run configuration being edited in the Model and Noise views (and started from the Train
// view). The store only composes its units (stores/model/): the form and its presets
// (presets.ts), what the run trains on (source.ts), the config and its checks (checks.ts), the
// epochs advice (epochs.ts), the measured speeds (speed.ts) and the draft kept in the workspace
// (draft.ts); the actions that change several of them are here.
import { defineStore } from 'pinia';
import { computed, reactive } from 'vue';
import { DEFAULT_HIDDEN, inspectionCrop, isVae, type ModelKind, type NoiseConfig } from '@contract';
import { useDatasetsStore } from './datasets';
import { useRunsStore } from './runs';
import { modelTitle } from '../components/training/describe';
import { PRESETS, matchingPreset, newForm, suggestedCrop, type ModelForm, type Preset } from './model/presets';
import { BUILTIN_MNIST, useRunSource } from './model/source';
import { useConfigChecks } from './model/checks';
import { useEpochAdvice } from './model/epochs';
import { useSpeed } from './model/speed';
import { useDraft } from './model/draft';

export { PRESETS, parseHidden, type ModelForm, type Preset } from './model/presets';
export { BUILTIN_MNIST } from './model/source';
export { ENOUGH_IMAGES, ENOUGH_STEPS, epochPlan, trainingImages } from './model/epochs';
export { DRAFT_SAVE_MS } from './model/draft';

export const useModelStore = defineStore('model', () => {
  const datasets = useDatasetsStore();
  const form = reactive<ModelForm>(newForm());
  /** The preset whose architecture and training setup the form has now (undefined: custom). */
  const presetId = computed(() => matchingPreset(form));
  const src = useRunSource(form, datasets);
  const { count, dataset, labelNames, valuesPerImage, runDataset, chooseDataset } = src;
  const checks = useConfigChecks(form, src);
  const { config, valid } = checks;
  const epochs = useEpochAdvice(form, src);
  const speed = useSpeed(form, config, checks.validation);
  const draft = useDraft(form, src, presetId, datasets);

  /** A preset's label for the chosen dataset ("Dense 784 → 128 → 784"). */
  const presetLabel = (p: Preset) => p.label.replaceAll('{n}', String(valuesPerImage.value));
  /** One line describing what Train will start. */
  const describe = computed(() => {
    const noise =
      form.noise.type === 'none' || !form.noise.level ? '' : `, ${form.noise.type} noise ${form.noise.level}`;
    const names = form.excludeLabels.map((l) => labelNames.value[l] || String(l));
    const left = names.length ? ` · without ${names.join(', ')}` : '';
    const crops = form.cropSize > 0 ? ` · ${form.cropSize}-px crops` : '';
    return `${form.kind} · ${form.latentDim}-d code · ${form.epochs} epoch${form.epochs === 1 ? '' : 's'}${noise}${crops}${left}`;
  });

  function applyPreset(id: string) {
    const p = PRESETS.find((x) => x.id === id);
    if (!p) return;
    form.excludeLabels = [];
    form.balanceClasses = false;
    const { hidden: h, noise, ...arch } = p.arch;
    Object.assign(form, arch, { hiddenText: h.join(', '), noise: { ...noise } });
    // the inspection preset trains big pictures on random crops, as `ae-studio train --preset inspection` does
    if (id === 'inspection') form.cropSize = inspectionCrop(dataset.value?.shape ?? [28, 28, 1]);
  }

  /** "Train on random crops": on (a crop that suits the pictures) or off (whole pictures). */
  function setCrops(on: boolean) {
    const shape = dataset.value?.shape ?? [28, 28, 1];
    form.cropSize = on ? inspectionCrop(shape) || suggestedCrop(shape) : 0;
  }

  /** Changes the architecture and resets its layers to that kind's defaults. */
  function setKind(kind: ModelKind) {
    form.kind = kind;
    form.hiddenText = DEFAULT_HIDDEN[kind].join(', ');
    if (isVae(kind) && form.latentDim > 64) form.latentDim = 16;
  }

  /** "Train on all labels except …": leaves a label out of training, or takes it back. */
  function toggleExcluded(label: number) {
    form.excludeLabels = form.excludeLabels.includes(label)
      ? form.excludeLabels.filter((l) => l !== label)
      : [...form.excludeLabels, label].sort((a, b) => a - b);
  }

  function setNoise(noise: Partial<NoiseConfig>) {
    Object.assign(form.noise, noise);
    if (form.noise.type === 'none') form.noise.level = 0;
    else if (!form.noise.level) form.noise.level = form.noise.type === 'gaussian' ? 0.3 : 0.2;
  }

  /** Starts a run with this config; undefined (and nothing sent) when the form has errors. */
  async function train(): Promise<string | undefined> {
    if (!valid.value) return undefined;
    const runs = useRunsStore();
    return runs.start(
      config.value,
      runDataset.value,
      runName(Object.values(runs.runs).map((r) => r.summary.name ?? '')),
    );
  }

  /**
   * A readable default name that tells runs apart: what, on what, without which labels
   * ("Convolutional, 16-d code on Desktop icons without apps"), and a number when a run already has
   * that name ("… #2"); the user can rename it.
   */
  function runName(taken: string[]): string {
    const names = form.excludeLabels.map((l) => labelNames.value[l] || String(l));
    const base = `${modelTitle(config.value)} on ${(dataset.value?.name ?? 'MNIST digits').replace(/ \(built in\)$/, '')}${names.length ? ` without ${names.join(', ')}` : ''}`;
    const used = new Set(taken);
    if (!used.has(base)) return base;
    let k = 2;
    while (used.has(`${base} #${k}`)) k++;
    return `${base} #${k}`;
  }

  /** The first-run path: a small conv autoencoder on built-in MNIST, whatever the form says. */
  async function trainFirstRun(): Promise<string | undefined> {
    applyPreset('conv');
    chooseDataset(BUILTIN_MNIST);
    count.value = 6000;
    form.epochs = 5;
    return train();
  }

  // A dataset the user just imported is what they want to train on next.
  datasets.onImported((m) => {
    chooseDataset(m.id);
    if (epochs.steps.value.few) epochs.useSuggestedEpochs();
  });

  return {
    form,
    presetId,
    ...src,
    toggleExcluded,
    ...checks,
    ...epochs,
    describe,
    presetLabel,
    applyPreset,
    setCrops,
    setKind,
    setNoise,
    train,
    trainFirstRun,
    ...speed,
    ...draft,
  };
});
