// The workspace's datasets: the list, previews, built-ins one click away, rename and delete.
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { CallRes, DatasetEntry, DatasetManifest, EventPayload } from '@contract';
import { importRoots, toBase64, type DroppedFile } from '../composables/useDropFiles';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { useNoticesStore } from './notices';

export type BuiltinName = 'mnist' | 'fashion-mnist' | 'shapes';
export const BUILTINS: Array<{ name: BuiltinName; title: string; about: string }> = [
  { name: 'mnist', title: 'MNIST digits', about: '10,000 handwritten digits, 28×28' },
  { name: 'fashion-mnist', title: 'Fashion-MNIST', about: '10,000 clothing images in 10 classes, 28×28' },
  { name: 'shapes', title: 'Shapes', about: '9,000 circles, squares and triangles, 28×28' },
];

/** Images in the preview before an import: the files of each label in turn, so up to this many labels all show. */
export const PREVIEW_IMAGES = 24;
const IMPORT_OPTIONS_KEY = 'ae-studio:import-options';
/** The import options last used (size, colour, fit, background), each checked; none when unreadable. */
function keptImportOptions(): Partial<{
  size: number;
  mode: 'grayscale' | 'rgb';
  fit: 'stretch' | 'crop' | 'pad';
  background: 'black' | 'white';
}> {
  try {
    const v = JSON.parse(globalThis.localStorage?.getItem(IMPORT_OPTIONS_KEY) ?? 'null') as Record<
      string,
      unknown
    > | null;
    if (!v || typeof v !== 'object') return {};
    return {
      ...(Number.isInteger(v.size) && (v.size as number) >= 8 && (v.size as number) <= 512
        ? { size: v.size as number }
        : {}),
      ...(v.mode === 'grayscale' || v.mode === 'rgb' ? { mode: v.mode } : {}),
      ...(v.fit === 'stretch' || v.fit === 'crop' || v.fit === 'pad' ? { fit: v.fit } : {}),
      ...(v.background === 'black' || v.background === 'white' ? { background: v.background } : {}),
    };
  } catch {
    return {};
  }
}

export const useDatasetsStore = defineStore('datasets', () => {
  const notices = useNoticesStore();
  /** Every dataset in the workspace (damaged ones carry an `error`). */
  const entries = ref<DatasetEntry[]>([]);
  /** Previews by dataset id. */
  const previews = ref<Record<string, CallRes<'datasets:preview'>>>({});
  /** Built-ins being prepared. */
  const adding = ref<BuiltinName[]>([]);
  const loaded = ref(false);
  /** Options for the next import. */
  // (the validation share and seed runs use are set in the Model view; imports keep the defaults)
  const importOptions = ref({
    name: '',
    size: 28,
    mode: 'grayscale' as 'grayscale' | 'rgb',
    fit: 'stretch' as 'stretch' | 'crop' | 'pad',
    background: 'black' as 'black' | 'white',
    validationSplit: 0.1,
    seed: 42,
    ...keptImportOptions(),
  });
  // size, colour, fit and background come back after a reload (this browser's storage)
  watch(
    () => {
      const { size, mode, fit, background } = importOptions.value;
      return JSON.stringify({ size, mode, fit, background });
    },
    (kept) => {
      try {
        globalThis.localStorage?.setItem(IMPORT_OPTIONS_KEY, kept);
      } catch {
        // storage refused: the options last until the reload
      }
    },
  );
  /** Called with each dataset an import made (the Model view switches to it). */
  const imported: Array<(m: DatasetManifest) => void> = [];
  /** The import in progress: uploading (serve mode) then decoding in the trainer. */
  const importing = ref<{
    jobId?: string;
    phase: 'uploading' | 'importing';
    done: number;
    total: number;
    skipped: number;
    etaSec: number;
  }>();
  /** The last import's outcome, shown until the next one. */
  const lastImport = ref<EventPayload<'datasets:importDone'>>();
  let subscribed = false;

  /** The readable datasets. */
  const datasets = computed(() => entries.value.filter((e): e is DatasetManifest => !('error' in e)));

  function subscribe() {
    if (subscribed) return;
    subscribed = true;
    const api = useApi();
    api.on('datasets:importProgress', (p) => {
      if (importing.value && importing.value.jobId === p.jobId)
        importing.value = {
          ...importing.value,
          phase: 'importing',
          done: p.done,
          total: p.total,
          skipped: p.skipped,
          etaSec: p.etaSec,
        };
    });
    api.on('datasets:importDone', (p) => {
      // A small import can finish before the call that started it has answered.
      if (importing.value && !importing.value.jobId) earlyDone.set(p.jobId, p);
      else if (importing.value?.jobId === p.jobId) finishImport(p);
    });
  }

  const earlyDone = new Map<string, EventPayload<'datasets:importDone'>>();
  function finishImport(p: EventPayload<'datasets:importDone'>) {
    importing.value = undefined;
    lastImport.value = p;
    if (p.status === 'failed') notices.push('error', p.message ?? 'The import failed.');
    if (p.manifest) delete previews.value[p.manifest.id]; // images were added to it
    void refresh().then(() => {
      if (p.status === 'done' && p.manifest) for (const f of imported) f(p.manifest);
    });
  }
  function onImported(f: (m: DatasetManifest) => void) {
    imported.push(f);
  }

  /** Dropped files waiting for the user to check the preview and press Import. */
  const staged = ref<{
    source: { paths: string[] } | { uploadId: string };
    files: number;
    suggestedName: string;
    into?: { id: string; name: string };
  }>();
  /** A few images converted with the current options. */
  const stagePreview = ref<CallRes<'datasets:previewImport'>>();

  /** Step 1: makes dropped files available to the host (paths in the desktop app, a chunked upload in serve mode) and previews them. */
  async function stageFiles(files: DroppedFile[], pathOf?: (f: File) => string, into?: { id: string; name: string }) {
    if (!files.length || importing.value) return;
    subscribe();
    const api = useApi();
    lastImport.value = undefined;
    discardStaged(); // files of an earlier drop that was not imported
    const suggestedName = files[0].relPath.includes('/') ? files[0].relPath.split('/')[0] : 'Imported images';
    try {
      const paths = pathOf ? importRoots(files, pathOf) : undefined;
      if (paths?.length) {
        staged.value = { source: { paths }, files: files.length, suggestedName, into };
      } else {
        importing.value = { phase: 'uploading', done: 0, total: files.length, skipped: 0, etaSec: 0 };
        const started = Date.now();
        const { uploadId } = await api.invoke('datasets:uploadBegin', {});
        const CHUNK = 768 * 1024;
        for (const [i, f] of files.entries()) {
          const bytes = new Uint8Array(await f.file.arrayBuffer());
          // a safe relative path (the host checks it again)
          const rel =
            f.relPath
              .split('/')
              .filter((x) => x && x !== '.' && x !== '..')
              .join('/') || f.file.name;
          for (let off = 0; off === 0 || off < bytes.length; off += CHUNK) {
            await api.invoke('datasets:uploadChunk', {
              uploadId,
              path: rel,
              data: toBase64(bytes.subarray(off, off + CHUNK)),
              append: off > 0,
            });
            if (bytes.length === 0) break;
          }
          if (!importing.value) {
            void api.invoke('datasets:uploadDiscard', { uploadId }).catch(() => undefined); // cancelled while uploading
            return;
          }
          const rate = (i + 1) / Math.max(0.001, (Date.now() - started) / 1000);
          importing.value = { ...importing.value, done: i + 1, etaSec: (files.length - i - 1) / rate };
        }
        importing.value = undefined;
        staged.value = { source: { uploadId }, files: files.length, suggestedName, into };
      }
      await refreshStagePreview();
    } catch (err) {
      importing.value = undefined;
      notices.push('error', `The files could not be read: ${describeError(err)}`);
    }
  }

  /** Re-converts the preview with the current options. */
  async function refreshStagePreview() {
    if (!staged.value) return;
    const o = importOptions.value;
    try {
      stagePreview.value = await useApi().invoke('datasets:previewImport', {
        source: staged.value.source,
        options: {
          size: o.size,
          mode: o.mode,
          fit: o.fit,
          background: o.background,
          validationSplit: o.validationSplit,
          seed: o.seed,
        },
        count: PREVIEW_IMAGES,
      });
    } catch (err) {
      notices.push('error', `The preview failed: ${describeError(err)}`);
    }
  }

  /** Step 2: imports the staged files in the trainer; progress and the report come as events. */
  async function startImport() {
    const st = staged.value;
    if (!st || importing.value) return;
    const o = importOptions.value;
    importing.value = { phase: 'importing', done: 0, total: st.files, skipped: 0, etaSec: 0 };
    staged.value = undefined;
    stagePreview.value = undefined;
    try {
      const { jobId } = await useApi().invoke('datasets:import', {
        source: st.source,
        name: o.name.trim() || st.suggestedName,
        options: {
          size: o.size,
          mode: o.mode,
          fit: o.fit,
          background: o.background,
          validationSplit: o.validationSplit,
          seed: o.seed,
        },
        ...(st.into ? { into: st.into.id } : {}),
      });
      if (importing.value) importing.value = { ...importing.value, jobId };
      const early = earlyDone.get(jobId);
      earlyDone.clear();
      if (early) finishImport(early);
    } catch (err) {
      importing.value = undefined;
      notices.push('error', `The import could not start: ${describeError(err)}`);
    }
  }

  /** Drops the staged files; an upload's copies are removed from the workspace. */
  function discardStaged() {
    const st = staged.value;
    staged.value = undefined;
    stagePreview.value = undefined;
    if (st && 'uploadId' in st.source) {
      const uploadId = st.source.uploadId;
      useApi()
        .invoke('datasets:uploadDiscard', { uploadId })
        .catch((err) => notices.push('error', `The discarded files could not be removed: ${describeError(err)}`));
    }
  }

  /** Cancels the running import; nothing is written. */
  async function cancelImport() {
    const job = importing.value;
    if (!job) return;
    if (!job.jobId) {
      importing.value = undefined; // still uploading: stop sending
      return;
    }
    try {
      await useApi().invoke('datasets:cancelImport', { jobId: job.jobId });
    } catch (err) {
      notices.push('error', describeError(err));
    }
  }

  async function refresh() {
    try {
      entries.value = await useApi().invoke('datasets:list', {});
      loaded.value = true;
      for (const d of datasets.value) if (!previews.value[d.id]) void loadPreview(d.id);
    } catch (err) {
      notices.push('error', describeError(err));
    }
  }

  /** Drops cached previews and loads the list again (another workspace was opened). */
  async function reload() {
    previews.value = {};
    await refresh();
  }

  async function loadPreview(id: string) {
    try {
      previews.value[id] = await useApi().invoke('datasets:preview', { id, count: 16 });
    } catch (err) {
      notices.push('error', describeError(err));
    }
  }

  /** Makes a built-in dataset ready (decoded in the trainer process). */
  async function addBuiltin(name: BuiltinName) {
    adding.value = [...adding.value, name];
    try {
      const m = await useApi().invoke('datasets:addBuiltin', { name });
      notices.push('info', `${m.name} is ready: ${m.count.toLocaleString()} images.`);
      await refresh();
    } catch (err) {
      notices.push('error', `The built-in dataset could not be prepared: ${describeError(err)}`);
    } finally {
      adding.value = adding.value.filter((n) => n !== name);
    }
  }

  /** One page of a dataset's images (one label's, or all). */
  async function page(id: string, label: number | undefined, offset: number, limit = 48) {
    try {
      return await useApi().invoke('datasets:page', { id, ...(label === undefined ? {} : { label }), offset, limit });
    } catch (err) {
      notices.push('error', describeError(err));
      return undefined;
    }
  }

  /** Removes images (by position) from a dataset. */
  async function removeImages(id: string, indices: number[]): Promise<boolean> {
    try {
      await useApi().invoke('datasets:removeImages', { id, indices });
      delete previews.value[id];
      await refresh();
      return true;
    } catch (err) {
      notices.push('error', `The images could not be removed: ${describeError(err)}`);
      return false;
    }
  }

  async function rename(id: string, name: string) {
    try {
      await useApi().invoke('datasets:rename', { id, name });
      await refresh();
    } catch (err) {
      notices.push('error', describeError(err));
    }
  }

  async function remove(id: string) {
    try {
      await useApi().invoke('datasets:delete', { id });
      delete previews.value[id];
      await refresh();
    } catch (err) {
      notices.push('error', describeError(err));
    }
  }

  return {
    entries,
    previews,
    adding,
    loaded,
    importOptions,
    importing,
    lastImport,
    staged,
    stagePreview,
    datasets,
    subscribe,
    onImported,
    stageFiles,
    refreshStagePreview,
    startImport,
    discardStaged,
    cancelImport,
    refresh,
    reload,
    loadPreview,
    addBuiltin,
    rename,
    remove,
    page,
    removeImages,
  };
});
