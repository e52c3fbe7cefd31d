// "Measure training speed": the training step timed at a few batch sizes for the model being
// edited; any change of the model (not of how long it trains) makes the table stale.
import { computed, ref, watch, type ComputedRef } from 'vue';
import type { CallRes, ModelConfigInput } from '@contract';
import { useApi } from '../../api/instance';
import { describeError } from '../../api/client';
import type { ModelForm } from './presets';

export function useSpeed(
  form: ModelForm,
  config: ComputedRef<ModelConfigInput>,
  validation: ComputedRef<{ ok: boolean }>,
) {
  /** The training step timed at a few batch sizes for the current architecture (asked for; it takes a few seconds). */
  const speed = ref<CallRes<'models:speed'> & { forBatch: number }>();
  const measuring = ref(false);
  const speedError = ref<string>();
  /** The model the speed table was measured for: any change of it makes the table stale. */
  const speedKey = computed(() =>
    JSON.stringify({
      ...config.value,
      epochs: 0,
      validationSplit: 0,
      earlyStoppingPatience: 0,
      seed: 0,
      previewEvery: 0,
    }),
  );
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

  return { speed, measuring, speedError, measureSpeed };
}
