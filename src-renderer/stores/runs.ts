// Training runs as the UI sees them: the session's runs, their live curves, progress and the
// latest reconstruction preview, fed by `runs:event` / `runs:status` from the host.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { ModelConfig, type EventPayload, type ModelConfigInput, type RunSummary } from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { useNoticesStore } from './notices';

type RunEvent = EventPayload<'runs:event'>['event'];
export type PreviewEvent = Extract<RunEvent, { type: 'preview' }>;

export interface RunView {
  summary: RunSummary;
  /** Batch losses: x in fractional epochs. */
  batchX: number[];
  batchY: number[];
  /** Epoch-end training and validation losses: x = epoch. */
  epochX: number[];
  epochLoss: number[];
  valLoss: Array<number | null>;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  samplesPerSec: number;
  etaSec: number;
  preview?: PreviewEvent;
}

const MAX_BATCH_POINTS = 2_000;

function emptyView(summary: RunSummary): RunView {
  const epochs = summary.config?.epochs ?? 0;
  // a run listed by the host (after a reload): its last known speed, no batch in progress
  return {
    summary,
    batchX: [],
    batchY: [],
    epochX: [],
    epochLoss: [],
    valLoss: [],
    epoch: summary.epochsDone,
    epochs,
    batch: 0,
    batches: 0,
    samplesPerSec: summary.samplesPerSec ?? 0,
    etaSec: 0,
  };
}

/** The host decides (runs:list): the run has a trained model the Gallery can show. */
export const hasModel = (s: RunSummary | undefined): boolean =>
  !!s?.hasModel && s.status !== 'running' && s.status !== 'queued';

export const useRunsStore = defineStore('runs', () => {
  const notices = useNoticesStore();
  /** Every run of this session by id. */
  const runs = ref<Record<string, RunView>>({});
  /** Newest first. */
  const order = ref<string[]>([]);
  /** The run shown in the Train view. */
  const selectedId = ref<string>();
  /** True while a start request is in flight. */
  const starting = ref(false);
  /** Why the last start failed, in plain words (shown where Train was pressed). */
  const startError = ref<string>();
  /** Runs whose epoch curves the Train view overlays. */
  const compareIds = ref<string[]>([]);

  const selected = computed(() => (selectedId.value ? runs.value[selectedId.value] : undefined));
  /** Runs with a trained model (finished, or imported from a TensorFlow.js export), newest first. */
  const withModel = computed(() => order.value.filter((id) => hasModel(runs.value[id]?.summary)));
  const running = computed(() => order.value.filter((id) => runs.value[id]?.summary.status === 'running'));

  function upsert(summary: RunSummary) {
    const existing = runs.value[summary.runId];
    if (existing) {
      existing.summary = summary;
      if (!existing.samplesPerSec && summary.samplesPerSec) existing.samplesPerSec = summary.samplesPerSec;
    } else {
      runs.value[summary.runId] = emptyView(summary);
      // newest first, by start time (the host lists newest first; inserting in that order must not reverse it)
      order.value = [...order.value, summary.runId].sort(
        (a, b) => (runs.value[b]?.summary.startedAt ?? 0) - (runs.value[a]?.summary.startedAt ?? 0),
      );
    }
    const v = runs.value[summary.runId];
    // epoch curve from the authoritative history
    v.epochX = summary.history.loss.map((_, i) => i + 1);
    v.epochLoss = [...summary.history.loss];
    v.valLoss = [...summary.history.valLoss];
  }

  /** Applies one streamed event to its run. */
  function apply(runId: string, e: RunEvent) {
    const v = runs.value[runId];
    if (!v) return;
    if (e.type === 'batch') {
      v.epoch = e.epoch;
      v.batch = e.batch;
      v.batches = e.batches;
      v.samplesPerSec = e.samplesPerSec;
      v.etaSec = e.etaSec;
      v.batchX.push(e.epoch - 1 + e.batch / e.batches);
      v.batchY.push(e.loss);
      if (v.batchX.length > 2 * MAX_BATCH_POINTS) {
        // every other point goes: the line still covers the whole run, as the host's series does
        v.batchX = v.batchX.filter((_, i) => i % 2 === 0);
        v.batchY = v.batchY.filter((_, i) => i % 2 === 0);
      }
    } else if (e.type === 'epoch') {
      v.epoch = e.epoch;
      v.epochs = e.epochs;
      v.samplesPerSec = e.samplesPerSec;
      v.etaSec = e.etaSec;
      v.summary.epochsDone = e.epoch;
      v.epochX = [...v.epochX.filter((x) => x < e.epoch), e.epoch];
      v.epochLoss = [...v.epochLoss.slice(0, e.epoch - 1), e.loss];
      v.valLoss = [...v.valLoss.slice(0, e.epoch - 1), e.valLoss];
    } else if (e.type === 'preview') {
      v.preview = e;
    } else if (e.type === 'step') {
      const { type: _t, ...info } = e;
      v.summary.step = info;
    }
  }

  let subscribed = false;
  /** Subscribes to run events and loads the session's runs. */
  async function init() {
    const api = useApi();
    if (!subscribed) {
      subscribed = true;
      api.on('runs:event', (p) => apply(p.runId, p.event));
      api.on('runs:status', (p) => {
        const v = runs.value[p.runId];
        if (!v) return void refresh();
        v.summary.status = p.status;
        v.summary.message = p.message;
        v.summary.epochsDone = p.epochsDone;
        if (p.status === 'failed' && p.message) notices.push('error', p.message);
        if (p.status !== 'running' && p.status !== 'queued') void refresh();
      });
    }
    await refresh();
  }

  /** Reloads the list from the host. */
  async function refresh() {
    try {
      const list = await useApi().invoke('runs:list', {});
      for (const s of list) upsert(s);
      selectedId.value ??= list[0]?.runId;
      if (selectedId.value) {
        void loadPreview(selectedId.value);
        void loadBatchLoss(selectedId.value);
      }
    } catch (err) {
      notices.push('error', describeError(err));
    }
  }

  /** Forgets every run and loads the list again (another workspace was opened). */
  async function reload() {
    batchLossAsked.clear();
    runs.value = {};
    order.value = [];
    selectedId.value = undefined;
    await refresh();
  }

  /** Starts a run on built-in MNIST or a stored dataset; returns its id. */
  async function start(
    config: ModelConfigInput,
    dataset: RunSummary['dataset'],
    name?: string,
  ): Promise<string | undefined> {
    starting.value = true;
    try {
      const { runId } = await useApi().invoke('runs:start', { config, dataset, ...(name ? { name } : {}) });
      // the host may already have said 'queued' (runs:status arrives before this answer)
      if (!runs.value[runId])
        upsert({
          runId,
          status: 'running',
          config: ModelConfig.parse(config),
          dataset,
          epochsDone: 0,
          history: { loss: [], valLoss: [] },
          startedAt: Date.now(),
          ...(name ? { name } : {}),
        });
      selectedId.value = runId;
      startError.value = undefined;
      return runId;
    } catch (err) {
      startError.value = `The run could not start: ${describeError(err)}`;
      return undefined;
    } finally {
      starting.value = false;
    }
  }

  /** Asks a run to stop after its current batch. */
  async function stop(runId: string) {
    try {
      await useApi().invoke('runs:stop', { runId });
    } catch (err) {
      notices.push('error', describeError(err));
    }
  }

  /** Continues a stopped or failed run from its last checkpoint. */
  async function resume(runId: string) {
    try {
      await useApi().invoke('runs:resume', { runId });
      const v = runs.value[runId];
      // 'queued' when every training slot is busy: the host's runs:status already said which
      if (v && v.summary.status !== 'queued') v.summary.status = 'running';
    } catch (err) {
      notices.push('error', describeError(err));
    }
  }

  function select(runId: string) {
    selectedId.value = runId;
    void loadPreview(runId);
    void loadBatchLoss(runId);
  }

  /** The host's last preview of a run this page has not seen one of (e.g. after a reload). */
  async function loadPreview(runId: string) {
    const v = runs.value[runId];
    if (!v || v.preview || v.summary.status === 'damaged') return;
    try {
      const p = await useApi().invoke('runs:preview', { runId });
      if (p && !runs.value[runId]?.preview) runs.value[runId].preview = p;
    } catch {
      // no preview is shown; nothing else depends on it
    }
  }

  /** Runs whose batch losses have been asked of the host (once per run and page). */
  const batchLossAsked = new Set<string>();
  /**
   * The host's batch losses of a run this page has not followed from its start (e.g. after a
   * reload), thinned by the host; batches streamed meanwhile stay after them.
   */
  async function loadBatchLoss(runId: string) {
    const v = runs.value[runId];
    if (!v || batchLossAsked.has(runId) || v.summary.status === 'damaged') return;
    batchLossAsked.add(runId);
    try {
      const b = await useApi().invoke('runs:batchLoss', { runId });
      const now = runs.value[runId];
      if (!now || !b.x.length) return;
      const first = now.batchX[0] ?? Number.POSITIVE_INFINITY;
      const keep = b.x.findIndex((x) => x >= first);
      const n = keep < 0 ? b.x.length : keep;
      now.batchX = [...b.x.slice(0, n), ...now.batchX];
      now.batchY = [...b.y.slice(0, n).map((y) => y ?? Number.NaN), ...now.batchY];
    } catch {
      batchLossAsked.delete(runId); // no batch line; asked again next time the run is shown
    }
  }

  /** Renames a run or changes its note (kept in its run.json). */
  async function update(runId: string, changes: { name?: string; note?: string }) {
    try {
      const s = await useApi().invoke('runs:update', { runId, ...changes });
      upsert(s);
    } catch (err) {
      notices.push('error', describeError(err));
    }
  }

  return {
    runs,
    order,
    selectedId,
    starting,
    startError,
    compareIds,
    selected,
    running,
    withModel,
    init,
    refresh,
    reload,
    start,
    stop,
    resume,
    select,
    apply,
    loadPreview,
    loadBatchLoss,
    update,
  };
});
