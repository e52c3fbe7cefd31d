// The host connection, the studio's identity and the trainer's state (status bar).
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AppInfo, TrainerState } from '@contract';
import { useApi } from '../api/instance';
import { describeError } from '../api/client';
import type { ConnectionState } from '../api/transport';
import { useNoticesStore } from './notices';

export const useBackendStore = defineStore('backend', () => {
  const notices = useNoticesStore();
  /** Name, version and mode of the studio, once known. */
  const appInfo = ref<AppInfo>();
  /** The trainer process as the host last reported it. */
  const trainer = ref<TrainerState>();
  /** The transport's connection to the host. */
  const connection = ref<ConnectionState>('connecting');
  /** Set while a restart is in progress. */
  const restarting = ref(false);
  /** The last error talking to the host, in plain words. */
  const lastError = ref<string>();

  /** True when the trainer is not usable and a restart is the way out: it crashed, or asking for its backend failed. */
  const failed = computed(
    () =>
      connection.value === 'connected' &&
      (trainer.value?.state === 'crashed' || (!!lastError.value && trainer.value?.state !== 'ready')),
  );

  /** One line for the status bar. */
  const summary = computed(() => {
    if (connection.value === 'no-token')
      return 'Not connected: open the address printed by `npm run serve` (it contains ?token=…).';
    if (connection.value === 'disconnected') return 'Disconnected from the studio host — reconnecting…';
    const t = trainer.value;
    if (t?.state !== 'ready' && t?.state !== 'crashed' && lastError.value)
      return `Trainer unavailable: ${lastError.value}`;
    if (!t || t.state === 'starting') return 'Trainer starting…';
    if (t.state === 'crashed') return `Trainer stopped: ${t.error ?? 'unknown reason'}`;
    if (t.state === 'stopped') return 'Trainer stopped.';
    const i = t.info;
    return i
      ? `Backend: ${i.backend} · TensorFlow ${i.tfVersion} · ${i.threads} threads · trainer pid ${i.pid}`
      : 'Trainer ready.';
  });

  let started = false;
  /** Subscribes to host events and loads the first state; safe to call more than once. */
  async function init() {
    const api = useApi();
    connection.value = api.connection;
    if (started) return;
    started = true;
    // The first load below is queued until the socket opens; reload only after a lost connection.
    let lost = false;
    api.onConnection((s) => {
      connection.value = s;
      if (s === 'disconnected') lost = true;
      if (s === 'connected' && lost) {
        lost = false;
        void load();
      }
    });
    api.on('trainer:state', (s) => (trainer.value = s));
    api.on('app:notice', (n) => notices.push(n.level, n.message, n.at, 'app'));
    if (api.connection !== 'no-token') await load();
  }

  /** Asks the host who it is and which backend the trainer runs. */
  async function load() {
    const api = useApi();
    try {
      appInfo.value = await api.invoke('app:info', {});
      trainer.value ??= { state: 'starting', starts: 0, at: Date.now() };
      const info = await api.invoke('backend:info', {});
      trainer.value = { state: 'ready', info, starts: trainer.value?.starts ?? 1, at: Date.now() };
      lastError.value = undefined;
    } catch (err) {
      lastError.value = describeError(err);
    }
  }

  /** Starts a fresh trainer process (after a crash). */
  async function restart() {
    const api = useApi();
    restarting.value = true;
    try {
      trainer.value = await api.invoke('trainer:restart', {});
      lastError.value = undefined;
    } catch (err) {
      notices.push('error', `The trainer could not be restarted: ${describeError(err)}`);
    } finally {
      restarting.value = false;
    }
  }

  return { appInfo, trainer, connection, restarting, lastError, failed, summary, init, load, restart };
});
