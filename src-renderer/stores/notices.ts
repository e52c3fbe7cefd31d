// Messages for the user, shown in place: host notices and failed calls, in plain words. An error
// belongs to the view it was raised in and goes when the user moves on to another view.
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { useUiStore, type ViewName } from './ui';

export interface UiNotice {
  id: number;
  level: 'info' | 'warning' | 'error';
  message: string;
  at: number;
  /** The view an error was raised in (it goes when another view is shown). */
  view?: ViewName;
}

export const useNoticesStore = defineStore('notices', () => {
  /** Newest last; at most 5 kept. */
  const items = ref<UiNotice[]>([]);
  let nextId = 1;

  const ui = useUiStore();
  /**
   * Adds a notice; info notices disappear after a few seconds, warnings stay until dismissed, errors
   * until dismissed or another view is shown — except the host's own (`scope` 'app': a trainer
   * crash, a run falling back to a slower step), which stay until dismissed.
   */
  function push(level: UiNotice['level'], message: string, at = Date.now(), scope: 'view' | 'app' = 'view') {
    const notice: UiNotice = {
      id: nextId++,
      level,
      message,
      at,
      ...(level === 'error' && scope === 'view' ? { view: ui.view } : {}),
    };
    items.value = [...items.value, notice].slice(-5);
    if (level === 'info') setTimeout(() => dismiss(notice.id), 6_000);
    return notice.id;
  }

  /** Removes one notice. */
  function dismiss(id: number) {
    items.value = items.value.filter((n) => n.id !== id);
  }

  watch(
    () => ui.view,
    (view) => (items.value = items.value.filter((n) => !n.view || n.view === view)),
  );

  return { items, push, dismiss };
});
