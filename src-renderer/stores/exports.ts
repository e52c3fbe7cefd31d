// Exports of trained runs: models as TensorFlow.js / Keras / ONNX, latent codes as CSV,
// gallery views as PNG; each lands in the workspace, then is saved with the native dialog
// (desktop) or downloaded (serve mode). Also imports a TensorFlow.js export back as a run, and
// writes / imports PyTorch cluster jobs.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CallReq, ExportRecord } from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { useNoticesStore } from './notices';
import { useRunsStore } from './runs';

export type ExportRequest =
  | ({ kind: 'model' } & CallReq<'export:model'>)
  | ({ kind: 'latents' } & CallReq<'export:latents'>)
  | ({ kind: 'gallery' } & CallReq<'export:gallery'>);

export const useExportsStore = defineStore('exports', () => {
  const notices = useNoticesStore();
  /** Exports in the workspace, newest first. */
  const items = ref<ExportRecord[]>([]);
  /** Set while an export is being written (the trainer does the work). */
  const busy = ref(false);
  /** Why the last export or import failed, in plain words (shown next to the form). */
  const error = ref<string>();
  const importing = ref(false);

  async function refresh() {
    try {
      items.value = await useApi().invoke('export:list', {});
    } catch (err) {
      error.value = describeError(err);
    }
  }

  async function run(req: ExportRequest): Promise<ExportRecord | undefined> {
    const api = useApi();
    busy.value = true;
    error.value = undefined;
    try {
      const { kind, ...payload } = req;
      const rec =
        kind === 'model'
          ? await api.invoke('export:model', payload as CallReq<'export:model'>)
          : kind === 'latents'
            ? await api.invoke('export:latents', payload as CallReq<'export:latents'>)
            : await api.invoke('export:gallery', payload as CallReq<'export:gallery'>);
      items.value = [rec, ...items.value.filter((e) => e.exportId !== rec.exportId)];
      return rec;
    } catch (err) {
      error.value = describeError(err);
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  /** Desktop: copies the export where the user picks. */
  async function saveAs(exportId: string) {
    try {
      const { savedTo } = await useApi().invoke('export:saveAs', { exportId });
      if (savedTo) notices.push('info', `Saved to ${savedTo}.`);
    } catch (err) {
      error.value = describeError(err);
    }
  }

  /** Imports a TensorFlow.js autoencoder export (folder path, or the native dialog) as a new run. */
  async function importModel(path?: string): Promise<string | undefined> {
    importing.value = true;
    error.value = undefined;
    try {
      const r = await useApi().invoke('models:import', path ? { path } : {});
      if (r.cancelled || !r.runId) return undefined;
      const runs = useRunsStore();
      await runs.refresh();
      runs.select(r.runId);
      notices.push(
        'info',
        `Imported as run ${r.runId}: open it in the Gallery, or Resume it in the Train view to train further.`,
      );
      return r.runId;
    } catch (err) {
      error.value = describeError(err);
      return undefined;
    } finally {
      importing.value = false;
    }
  }

  /** Set while a cluster job is being written; its outcome or error (shown in the job form). */
  const jobBusy = ref(false);
  const jobError = ref<string>();
  const lastJob = ref<ExportRecord>();
  /** Why the last job import was refused (what is wrong with the folder). */
  const jobImportError = ref<string>();

  /** Writes a PyTorch cluster job for a run into the workspace's exports/. */
  async function exportJob(runId: string, fromCheckpoint: boolean): Promise<ExportRecord | undefined> {
    jobBusy.value = true;
    jobError.value = undefined;
    try {
      const rec = await useApi().invoke('jobs:export', { runId, fromCheckpoint });
      items.value = [rec, ...items.value.filter((e) => e.exportId !== rec.exportId)];
      lastJob.value = rec;
      return rec;
    } catch (err) {
      jobError.value = describeError(err);
      return undefined;
    } finally {
      jobBusy.value = false;
    }
  }

  /** Imports a trained cluster job folder (path, or the native dialog) as a new run. */
  async function importJob(path?: string): Promise<string | undefined> {
    importing.value = true;
    jobImportError.value = undefined;
    try {
      const r = await useApi().invoke('jobs:import', path ? { path } : {});
      if (r.cancelled || !r.runId) return undefined;
      const runs = useRunsStore();
      await runs.refresh();
      runs.select(r.runId);
      notices.push(
        'info',
        `Imported the cluster job as run ${r.runId}: its curves are in the Train view, its reconstructions in the Gallery.`,
      );
      return r.runId;
    } catch (err) {
      jobImportError.value = describeError(err);
      return undefined;
    } finally {
      importing.value = false;
    }
  }

  /** Where a cluster job training elsewhere stands (its folder's out/progress.json, metrics.jsonl, done.json); throws the host's words. */
  function jobProgress(path: string) {
    return useApi().invoke('jobs:progress', { path });
  }

  return {
    items,
    busy,
    error,
    importing,
    refresh,
    run,
    saveAs,
    importModel,
    jobBusy,
    jobError,
    jobImportError,
    lastJob,
    exportJob,
    importJob,
    jobProgress,
  };
});
