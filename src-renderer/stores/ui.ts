// Which view is showing, kept in sync with the address hash (#/datasets …) so back/forward work.
import { defineStore } from 'pinia';
import { ref } from 'vue';

export const VIEWS = ['datasets', 'model', 'noise', 'train', 'gallery', 'export'] as const;
export type ViewName = (typeof VIEWS)[number];

export const VIEW_LABELS: Record<ViewName, string> = {
  datasets: 'Datasets',
  model: 'Model',
  noise: 'Noise',
  train: 'Train',
  gallery: 'Gallery',
  export: 'Export',
};

export function viewFromHash(hash: string): ViewName | undefined {
  const name = hash.replace(/^#\/?/, '');
  return (VIEWS as readonly string[]).includes(name) ? (name as ViewName) : undefined;
}

export const useUiStore = defineStore('ui', () => {
  /** The view on screen. */
  const view = ref<ViewName>('datasets');
  /** The keyboard shortcuts panel is open. */
  const helpOpen = ref(false);

  /** Shows a view and records it in the address hash (a history entry). */
  function go(next: ViewName) {
    view.value = next;
    if (typeof window !== 'undefined' && viewFromHash(window.location.hash) !== next)
      window.location.hash = `#/${next}`;
  }

  /** Follows the hash (initial load, back/forward). */
  function syncFromHash(hash: string) {
    const v = viewFromHash(hash);
    if (v) view.value = v;
  }

  return { view, helpOpen, go, syncFromHash };
});
