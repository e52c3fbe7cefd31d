// What a run trains on: built-in MNIST or a stored dataset, how many of its images, their shape
// and label names, and the dataset as the calls take it.
import { computed, ref } from 'vue';
import type { DatasetManifest } from '@contract';
import type { useDatasetsStore } from '../datasets';
import type { ModelForm } from './presets';

/** Built-in MNIST needs no setup: the trainer has it. */
export const BUILTIN_MNIST = 'builtin:mnist';
export const MNIST = { shape: [28, 28, 1] as [number, number, number], count: 10_000, name: 'MNIST digits (built in)' };

/** The dataset side of the run being edited; `chooseDataset` also sets the form's split and seed. */
export function useRunSource(form: ModelForm, datasets: ReturnType<typeof useDatasetsStore>) {
  /** `builtin:mnist` or a stored dataset's id. */
  const source = ref<string>(BUILTIN_MNIST);
  /** How many of the dataset's images a run uses. */
  const count = ref(6000);

  const manifest = computed<DatasetManifest | undefined>(() => datasets.datasets.find((d) => d.id === source.value));
  /** What the run trains on: name, image shape, images available. */
  const dataset = computed(() =>
    source.value === BUILTIN_MNIST
      ? MNIST
      : manifest.value
        ? {
            shape: manifest.value.shape as [number, number, number],
            count: manifest.value.count,
            name: manifest.value.name,
          }
        : undefined,
  );
  /** The dataset's label names by label number (MNIST: the digits). */
  const labelNames = computed<string[]>(() =>
    source.value === BUILTIN_MNIST
      ? ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
      : (manifest.value?.labelNames ?? []),
  );
  const inputShape = computed<[number, number, number]>(() => dataset.value?.shape ?? MNIST.shape);
  const valuesPerImage = computed(() => inputShape.value[0] * inputShape.value[1] * inputShape.value[2]);
  const minCount = computed(() => (source.value === BUILTIN_MNIST ? 100 : 10));
  const countError = computed(() => {
    const max = dataset.value?.count ?? 0;
    if (!Number.isInteger(count.value)) return 'must be a whole number';
    if (count.value < minCount.value) return `must be at least ${minCount.value}`;
    if (count.value > max) return `this dataset has ${max.toLocaleString('en-US')} images`;
    return undefined;
  });

  /** The run's dataset as `runs:start` takes it. */
  const runDataset = computed(() =>
    source.value === BUILTIN_MNIST
      ? { builtin: 'mnist' as const, count: count.value }
      : { id: source.value, count: count.value },
  );
  /** The dataset as `noise:preview` takes it. */
  const previewDataset = computed(() =>
    source.value === BUILTIN_MNIST ? { builtin: 'mnist' as const } : { id: source.value },
  );
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

  return {
    source,
    count,
    manifest,
    dataset,
    labelNames,
    inputShape,
    valuesPerImage,
    countError,
    runDataset,
    previewDataset,
    chooseDataset,
  };
}
export type RunSource = ReturnType<typeof useRunSource>;
