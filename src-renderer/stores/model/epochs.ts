// How long a run must be to learn: one rule (ENOUGH_STEPS training steps or ENOUGH_IMAGES images
// seen), counted on the images the run really trains on, and the advice the Model and Train views show.
import { computed } from 'vue';
import type { ModelForm } from './presets';
import { BUILTIN_MNIST, type RunSource } from './source';

/**
 * The one epochs rule: a run reconstructs recognisably once it has taken ENOUGH_STEPS training
 * steps or seen ENOUGH_IMAGES training images (whichever comes first), counted on the images it
 * really trains on (after the validation and test splits and the left-out labels).
 */
export const ENOUGH_STEPS = 300;
export const ENOUGH_IMAGES = 20_000;
const MAX_SUGGESTED_EPOCHS = 500;

/**
 * About how many images a run trains on: `count` less the validation and test splits, less the
 * share of the left-out labels (`labelCounts` of the whole dataset; exact up to how the random
 * split falls across labels).
 */
export function trainingImages(
  count: number,
  validationSplit: number,
  testSplit: number,
  excluded: readonly number[],
  labelCounts: readonly number[] | undefined,
): number {
  const n = Math.max(0, Math.floor(count) || 0);
  const kept = n - Math.floor(n * (Number(validationSplit) || 0)) - Math.floor(n * (Number(testSplit) || 0));
  if (!excluded.length || !labelCounts?.length || kept <= 0) return Math.max(0, kept);
  const all = labelCounts.reduce((a, b) => a + b, 0);
  const out = excluded.reduce((a, l) => a + (labelCounts[l] ?? 0), 0);
  return all > 0 ? Math.round((kept * (all - out)) / all) : kept;
}

/** Steps per epoch and in all for `trainCount` images, and the fewest epochs the rule above calls enough. */
export function epochPlan(trainCount: number, batchSize: number, epochs: number) {
  const perEpoch = trainCount > 0 && batchSize > 0 ? Math.ceil(trainCount / batchSize) : 0;
  const e = Number(epochs) || 0;
  const total = perEpoch * e;
  const enough =
    perEpoch > 0
      ? Math.min(MAX_SUGGESTED_EPOCHS, Math.ceil(ENOUGH_STEPS / perEpoch), Math.ceil(ENOUGH_IMAGES / trainCount))
      : undefined;
  return { perEpoch, total, trainCount, few: enough !== undefined && e < enough, suggested: enough };
}

/** The steps of the form's run, the epochs the rule calls enough, and the advice in plain words. */
export function useEpochAdvice(form: ModelForm, src: RunSource) {
  const { count, dataset, source, manifest } = src;
  /** Training steps per epoch and in all on the images the run really trains on, and the fewest epochs that are enough. */
  const steps = computed(() => {
    const n = Math.min(count.value || 0, dataset.value?.count ?? 0);
    const counts = source.value === BUILTIN_MNIST ? Array<number>(10).fill(1) : manifest.value?.labelCounts;
    return epochPlan(
      trainingImages(n, form.validationSplit, form.testSplit, form.excludeLabels, counts),
      form.batchSize,
      form.epochs,
    );
  });
  /** Plain words when the run is too short to give recognisable reconstructions: the rule, once, and what it means here. */
  const epochAdvice = computed(() => {
    const st = steps.value;
    if (!st.few || !st.suggested) return undefined;
    const left = form.excludeLabels.length
      ? ` (${form.excludeLabels.length} label${form.excludeLabels.length === 1 ? '' : 's'} left out)`
      : '';
    const fmt = (x: number) => x.toLocaleString('en-US');
    return `Recognisable reconstructions take about ${fmt(ENOUGH_STEPS)} training steps or ${fmt(ENOUGH_IMAGES)} images seen: ${fmt(form.epochs)} epoch${form.epochs === 1 ? '' : 's'} on ${fmt(st.trainCount)} training images${left} give ${fmt(st.total)} step${st.total === 1 ? '' : 's'}. ${fmt(st.suggested)} epochs are enough.`;
  });
  function useSuggestedEpochs() {
    if (steps.value.suggested) form.epochs = steps.value.suggested;
  }

  return { steps, epochAdvice, useSuggestedEpochs };
}
