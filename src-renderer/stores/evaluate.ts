// What a finished run is good for (the Gallery's Features and Anomalies panels): the trainer's
// evaluation of the run on its dataset — probes, per-label counts and errors, the error histogram,
// the worst images and, for labels marked anomalous, the ROC curve. Every number comes from the
// host; the store only keeps the last answer, the marked labels and the threshold position — the
// last two per run in this browser's storage, so a reload finds them as they were.
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { CallRes } from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { useWorkspaceStore } from './workspace';

/** What the Gallery keeps per run across reloads: the labels marked anomalous and the threshold. */
interface Kept {
  anomalous: number[];
  thresholdBin: number;
}
const keyOf = (runId: string) => `ae-studio:anomalies:${useWorkspaceStore().info?.path ?? ''}:${runId}`;
function readKept(runId: string): Kept | undefined {
  try {
    const v = JSON.parse(globalThis.localStorage?.getItem(keyOf(runId)) ?? 'null') as Partial<Kept> | null;
    if (!v || !Array.isArray(v.anomalous) || !Number.isInteger(v.thresholdBin)) return undefined;
    return { anomalous: v.anomalous.filter((l) => Number.isInteger(l)), thresholdBin: v.thresholdBin as number };
  } catch {
    return undefined; // unreadable or no storage: start afresh
  }
}
function writeKept(runId: string, kept: Kept) {
  try {
    globalThis.localStorage?.setItem(keyOf(runId), JSON.stringify(kept));
  } catch {
    // storage full or refused: the marks last until the reload
  }
}

export const useEvaluateStore = defineStore('evaluate', () => {
  /** The run evaluated. */
  const runId = ref<string>();
  /** The trainer's evaluation (with the ROC curve when labels are marked). */
  const result = ref<CallRes<'evaluate:run'>>();
  /** Labels marked anomalous. */
  const anomalous = ref<number[]>([]);
  /** The threshold as a histogram bin edge (0 … bins): images with error ≥ that edge are shown. */
  const thresholdBin = ref(0);
  const loading = ref(false);
  const error = ref<string>();

  /** Name of a label ("7", "cat"). */
  const labelName = (l: number) => (l < 0 ? '(none)' : (result.value?.labelNames[l] ?? String(l)));
  /** The threshold's error value (the trainer's bin edge). */
  const threshold = computed(() => result.value?.edges[thresholdBin.value] ?? 0);
  /** Images at or above the threshold (the trainer's count for that edge). */
  const aboveCount = computed(() => result.value?.above[thresholdBin.value] ?? 0);

  async function fetch(id: string) {
    loading.value = true;
    error.value = undefined;
    try {
      const r = await useApi().invoke('evaluate:run', { runId: id, anomalous: anomalous.value });
      if (runId.value === id) result.value = r;
    } catch (err) {
      if (runId.value === id) error.value = describeError(err);
    } finally {
      loading.value = false;
    }
  }

  /** Evaluates a run (seconds: the probes train in the trainer). */
  async function open(id: string) {
    if (runId.value === id && (result.value || loading.value)) return;
    runId.value = id;
    result.value = undefined;
    const kept = readKept(id);
    anomalous.value = kept?.anomalous ?? [];
    await fetch(id);
    const r = result.value as CallRes<'evaluate:run'> | undefined;
    if (!r) return;
    // as it was left, or at the edge where about the worst 5 % lie above
    if (kept && kept.thresholdBin >= 0 && kept.thresholdBin <= r.histogram.bins) thresholdBin.value = kept.thresholdBin;
    else
      thresholdBin.value = Math.max(
        0,
        r.above.findIndex((n) => n <= Math.max(1, r.counts.scored * 0.05)),
      );
  }
  // kept once the run's evaluation is shown (not while it is being put back)
  watch([anomalous, thresholdBin], () => {
    if (runId.value && result.value)
      writeKept(runId.value, { anomalous: anomalous.value, thresholdBin: thresholdBin.value });
  });

  /** Marks or unmarks a label as anomalous and asks for the ROC curve. */
  async function toggleAnomalous(label: number) {
    if (!runId.value) return;
    anomalous.value = anomalous.value.includes(label)
      ? anomalous.value.filter((l) => l !== label)
      : [...anomalous.value, label].sort((a, b) => a - b);
    await fetch(runId.value);
  }

  return {
    runId,
    result,
    anomalous,
    thresholdBin,
    loading,
    error,
    labelName,
    threshold,
    aboveCount,
    open,
    toggleAnomalous,
  };
});
