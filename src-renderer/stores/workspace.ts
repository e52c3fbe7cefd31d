// The open workspace: its folder, counts, flagged items and the settings stored in it.
// Opening another workspace reloads everything that lives in it (datasets, runs, exports).
import { defineStore } from 'pinia';
import { ref, watchEffect } from 'vue';
import type { Settings, WorkspaceInfo } from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import { useNoticesStore } from './notices';
import { useRunsStore } from './runs';
import { useDatasetsStore } from './datasets';
import { useExportsStore } from './exports';

export const useWorkspaceStore = defineStore('workspace', () => {
  const notices = useNoticesStore();
  const info = ref<WorkspaceInfo>();
  /** Set while a workspace is being opened. */
  const opening = ref(false);
  /** The last failure of open / settings, shown in place. */
  const error = ref<string>();

  // The chosen theme on <html> (CSS: color-scheme); `system` leaves it to the OS.
  watchEffect(() => {
    if (typeof document === 'undefined') return;
    const theme = info.value?.settings.theme ?? 'system';
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  });

  let subscribed = false;
  async function init() {
    const api = useApi();
    if (api.connection === 'no-token') return; // the page shows only the way in
    if (!subscribed) {
      subscribed = true;
      api.on('workspace:changed', (next) => {
        const moved = info.value && info.value.path !== next.path;
        info.value = next;
        if (moved) void reloadContents();
      });
    }
    await load();
  }

  async function load() {
    try {
      info.value = await useApi().invoke('workspace:info', {});
    } catch (err) {
      error.value = describeError(err);
    }
  }

  async function reloadContents() {
    await Promise.all([useRunsStore().reload(), useDatasetsStore().reload(), useExportsStore().refresh()]);
  }

  /** Opens another workspace: `path` typed by the user, or the native dialog (desktop) without one. */
  async function open(path?: string) {
    opening.value = true;
    error.value = undefined;
    try {
      const before = info.value?.path;
      const r = await useApi().invoke('workspace:open', path ? { path } : {});
      if (r.cancelled) return;
      info.value = r.info;
      if (r.info.path !== before) await reloadContents();
      notices.push('info', `Opened the workspace ${r.info.path}.`);
    } catch (err) {
      error.value = describeError(err);
    } finally {
      opening.value = false;
    }
  }

  async function setSettings(changes: Partial<Settings>) {
    error.value = undefined;
    try {
      const settings = await useApi().invoke('settings:set', changes);
      if (info.value) info.value = { ...info.value, settings };
    } catch (err) {
      error.value = describeError(err);
    }
  }

  return { info, opening, error, init, load, open, setSettings };
});
