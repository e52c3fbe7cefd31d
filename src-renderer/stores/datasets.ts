// The workspace's datasets: the list, previews, built-ins one click away, rename and delete.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { CallRes, DatasetEntry, DatasetManifest } from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { useNoticesStore } from './notices';

export type BuiltinName = 'mnist' | 'fashion-mnist' | 'shapes';
export const BUILTINS: Array<{ name: BuiltinName; title: string; about: string }> = [
  { name: 'mnist', title: 'MNIST digits', about: '10,000 handwritten digits, 28×28' },
  { name: 'fashion-mnist', title: 'Fashion-MNIST', about: '10,000 clothing images in 10 classes, 28×28' },
  { name: 'shapes', title: 'Shapes', about: '9,000 circles, squares and triangles, 28×28' },
];

export const useDatasetsStore = defineStore('datasets', () => {
  const notices = useNoticesStore();
  /** Every dataset in the workspace (damaged ones carry an `error`). */
  const entries = ref<DatasetEntry[]>([]);
  /** Previews by dataset id. */
  const previews = ref<Record<string, CallRes<'datasets:preview'>>>({});
  /** Built-ins being prepared. */
  const adding = ref<BuiltinName[]>([]);
  const loaded = ref(false);

  /** The readable datasets. */
  const datasets = computed(() => entries.value.filter((e): e is DatasetManifest => !('error' in e)));

  async function refresh() {
    try {
      entries.value = await useApi().invoke('datasets:list', {});
      loaded.value = true;
      for (const d of datasets.value) if (!previews.value[d.id]) void loadPreview(d.id);
    } catch (err) {
      notices.push('error', describeError(err));
    }
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

  return { entries, previews, adding, loaded, datasets, refresh, loadPreview, addBuiltin, rename, remove };
});
