// The studio host: implements the contract (one file per domain as domains arrive) and fans
// events out to whichever transport is attached (Electron IPC or the serve-mode WebSocket).
// No transport code here.
import { EventEmitter } from 'node:events';
import type { AppInfo, Envelope, EventName, EventPayload } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';
import { dispatch, type Handlers } from './dispatch';
import { trainerHandlers } from './trainer';
import { createRunsService } from './runs';
import { datasetHandlers } from './datasets';
import { galleryHandlers } from './gallery';
import { noiseHandlers } from './noise';

export interface HostOptions {
  mode: AppInfo['mode'];
  version: string;
  trainer: TrainerSupervisor;
  /** The workspace folder: runs/<runId>/ holds each run's config, checkpoint and model. */
  workspaceDir: string;
}

export type EventListener = <N extends EventName>(name: N, payload: EventPayload<N>) => void;

export interface Host {
  /** Validates and runs one call from any transport; never throws. */
  dispatch(name: unknown, payload: unknown): Promise<Envelope>;
  /** Subscribes to every host event; returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void;
  /** Pushes an event to every subscriber. */
  emit<N extends EventName>(name: N, payload: EventPayload<N>): void;
  /** Stops the trainer. */
  dispose(): Promise<void>;
}

export function createHost(opts: HostOptions): Host {
  const bus = new EventEmitter();
  bus.setMaxListeners(100);
  const emit = <N extends EventName>(name: N, payload: EventPayload<N>) => bus.emit('event', name, payload);

  const runs = createRunsService({ trainer: opts.trainer, workspaceDir: opts.workspaceDir, emit });
  const datasets = datasetHandlers(opts.trainer, opts.workspaceDir, emit);

  const handlers: Handlers = {
    'app:info': () => ({
      name: 'Autoencoder Studio',
      version: opts.version,
      mode: opts.mode,
      platform: `${process.platform}-${process.arch}`,
      nodeVersion: process.versions.node,
    }),
    ...trainerHandlers(opts.trainer),
    ...runs.handlers,
    ...datasets.handlers,
    ...galleryHandlers(opts.trainer, opts.workspaceDir, (id) => runs.get(id)),
    ...noiseHandlers(opts.trainer, opts.workspaceDir),
  };

  const onState = (s: EventPayload<'trainer:state'>) => {
    emit('trainer:state', s);
    if (s.state === 'crashed') emit('app:notice', { level: 'error', message: s.error ?? 'The trainer stopped.', at: s.at });
  };
  opts.trainer.on('state', onState);

  return {
    dispatch: (name, payload) => dispatch(handlers, name, payload),
    subscribe(listener) {
      const l = (name: EventName, payload: unknown) => listener(name, payload as EventPayload<typeof name>);
      bus.on('event', l);
      return () => bus.off('event', l);
    },
    emit,
    async dispose() {
      opts.trainer.off('state', onState);
      runs.dispose();
      datasets.dispose();
      await opts.trainer.stop();
    },
  };
}
