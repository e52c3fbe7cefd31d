// The Noise view's live preview: the chosen dataset's first images, clean and corrupted with the
// model's noise, computed in the trainer process (`noise:preview`). Requests are debounced while
// a slider moves, and an answer that arrives after a newer request is dropped.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CallRes } from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { useModelStore } from './model';

export const PREVIEW_COUNT = 12;
export const DEBOUNCE_MS = 120;

export const useNoiseStore = defineStore('noise', () => {
  const model = useModelStore();
  const preview = ref<CallRes<'noise:preview'>>();
  const loading = ref(false);
  /** Why the preview could not be made, in plain words (shown in place). */
  const error = ref<string>();
  /** The noise draw: same seed, same corruption. */
  const seed = ref(1);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;

  /** Fetches the preview now (when the noise settings are valid). */
  async function refresh() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (model.errors['noise.level'] || model.errors['noise.type'] || model.errors.dataset) return;
    const mine = ++seq;
    loading.value = true;
    try {
      const a = model.form.augment;
      const augment = a.flip || a.shift > 0 || a.rotate > 0 || a.brightness > 0 ? { ...a } : undefined;
      const r = await useApi().invoke('noise:preview', {
        dataset: model.previewDataset,
        noise: { ...model.form.noise },
        count: PREVIEW_COUNT,
        seed: seed.value,
        ...(augment ? { augment } : {}),
      });
      if (mine !== seq) return;
      preview.value = r;
      error.value = undefined;
    } catch (err) {
      if (mine !== seq) return;
      error.value = `The preview could not be made: ${describeError(err)}`;
    } finally {
      if (mine === seq) loading.value = false;
    }
  }

  /** Fetches the preview after the settings stop changing for a moment. */
  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void refresh(), DEBOUNCE_MS);
  }

  /** A new draw of the same noise. */
  function reroll() {
    seed.value += 1;
    return refresh();
  }

  function cancel() {
    if (timer) clearTimeout(timer);
    timer = undefined;
  }

  return { preview, loading, error, seed, refresh, schedule, reroll, cancel };
});
