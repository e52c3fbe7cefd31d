// Messages for the user, shown in place: host notices and failed calls, in plain words.
import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface UiNotice {
  id: number;
  level: 'info' | 'warning' | 'error';
  message: string;
  at: number;
}

export const useNoticesStore = defineStore('notices', () => {
  /** Newest last; at most 5 kept. */
  const items = ref<UiNotice[]>([]);
  let nextId = 1;

  /** Adds a notice; info notices disappear after a few seconds, warnings and errors stay until dismissed. */
  function push(level: UiNotice['level'], message: string, at = Date.now()) {
    const notice = { id: nextId++, level, message, at };
    items.value = [...items.value, notice].slice(-5);
    if (level === 'info') setTimeout(() => dismiss(notice.id), 6_000);
    return notice.id;
  }

  /** Removes one notice. */
  function dismiss(id: number) {
    items.value = items.value.filter((n) => n.id !== id);
  }

  return { items, push, dismiss };
});
