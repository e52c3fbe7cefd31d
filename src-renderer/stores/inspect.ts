// The Gallery's Inspect panel of one run (docs/inspection.md, "In the studio"): its calibration,
// scored pictures and worst maps (inspect:images / inspect:calibrate), the threshold the user moves
// on the histogram (local until saved with inspect:threshold), and Try it with maps (inspect:try).
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { CallRes, InspectSettings } from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { toBase64 } from '../composables/useDropFiles';
import { thresholdCounts } from '../components/gallery/inspect-stats';

export const useInspectStore = defineStore('inspect', () => {
  const runId = ref<string>();
  const view = ref<CallRes<'inspect:images'>>();
  const tried = ref<CallRes<'inspect:try'>>();
  const busy = ref<'' | 'loading' | 'calibrating' | 'saving' | 'trying'>('');
  const error = ref<string>();
  /** The threshold as the user has moved it (the saved one until they move it). */
  const threshold = ref<number>(0);
  const saved = computed(() => view.value?.calibration?.threshold.value);
  const moved = computed(() => saved.value !== undefined && threshold.value !== saved.value);
  const counts = computed(() =>
    view.value ? thresholdCounts(view.value.scores, view.value.defective, threshold.value) : undefined,
  );

  async function guarded(what: typeof busy.value, f: () => Promise<void>) {
    busy.value = what;
    error.value = undefined;
    try {
      await f();
    } catch (err) {
      error.value = describeError(err);
    } finally {
      busy.value = '';
    }
  }
  function show(v: CallRes<'inspect:images'>) {
    view.value = v;
    threshold.value = v.calibration?.threshold.value ?? 0;
  }

  /** Opens the panel for a run (scores its pictures with its calibration, if it has one). */
  async function open(id: string) {
    if (runId.value !== id) [view.value, tried.value] = [undefined, undefined];
    runId.value = id;
    await guarded('loading', async () => {
      const v = await useApi().invoke('inspect:images', { runId: id, count: 24 });
      if (runId.value === id) show(v);
    });
  }
  /** Measures the normalisation and threshold again (with other settings when given). */
  async function calibrate(settings?: Partial<InspectSettings>) {
    const id = runId.value;
    if (!id) return;
    await guarded('calibrating', async () => {
      const v = await useApi().invoke('inspect:calibrate', { runId: id, count: 24, ...(settings ? { settings } : {}) });
      if (runId.value === id) show(v);
    });
  }
  /** Saves the moved threshold into the run's model/inspection.json. */
  async function saveThreshold() {
    const id = runId.value;
    const v = view.value;
    if (!id || !v?.calibration) return;
    await guarded('saving', async () => {
      const t = await useApi().invoke('inspect:threshold', { runId: id, value: threshold.value });
      if (runId.value === id && view.value?.calibration)
        view.value = { ...view.value, calibration: { ...view.value.calibration, threshold: t } };
    });
  }
  /** New pictures: their maps and verdicts against the saved threshold (`tile`: at their own resolution, by overlapping tiles). */
  async function tryFiles(files: File[], tile = false) {
    const id = runId.value;
    if (!id || !files.length) return;
    await guarded('trying', async () => {
      const small = files.slice(0, 32).filter((f) => f.size <= 8 * 2 ** 20);
      const payload = await Promise.all(
        small.map(async (f) => ({
          name: f.name.slice(0, 260) || 'image',
          data: toBase64(new Uint8Array(await f.arrayBuffer())),
        })),
      );
      if (!payload.length) throw new Error('Choose pictures of at most 8 MB each.');
      const r = await useApi().invoke('inspect:try', { runId: id, files: payload, tile });
      if (runId.value === id) tried.value = r;
    });
  }
  return { runId, view, tried, busy, error, threshold, saved, moved, counts, open, calibrate, saveThreshold, tryFiles };
});
