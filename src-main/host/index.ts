// The studio host: implements the contract (one file per domain) and fans
// events out to whichever transport is attached (Electron IPC or the serve-mode WebSocket).
// No transport code here.
import { EventEmitter } from 'node:events';
import type { AppInfo, Envelope, EventName, EventPayload, WorkspaceInfo } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';
import { CallError, dispatch, type Handlers } from './dispatch';
import { trainerHandlers } from './trainer';
import { createRunsService } from './runs';
import { datasetHandlers } from './datasets';
import { galleryHandlers } from './gallery';
import { evaluateHandlers } from './evaluate';
import { noiseHandlers } from './noise';
import { exportHandlers, type HostDialogs } from './exports';
import { jobHandlers } from './jobs';
import { datasetInUse, inventory, openWorkspaceDir, updateSettings, type OpenedWorkspace } from './workspace';

export interface HostOptions {
  mode: AppInfo['mode'];
  version: string;
  trainer: TrainerSupervisor;
  /** The workspace folder: runs/<runId>/ holds each run's config, checkpoint and model. */
  workspaceDir: string;
  /** Native dialogs (desktop app); serve mode has none. */
  dialogs?: HostDialogs;
  /** Called after another workspace was opened (the desktop app remembers it for next time). */
  onWorkspaceOpened?: (dir: string) => void;
}

export type EventListener = <N extends EventName>(name: N, payload: EventPayload<N>) => void;

export interface Host {
  /** Validates and runs one call from any transport; never throws. */
  dispatch(name: unknown, payload: unknown): Promise<Envelope>;
  /** Subscribes to every host event; returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void;
  /** Pushes an event to every subscriber. */
  emit<N extends EventName>(name: N, payload: EventPayload<N>): void;
  /** The open workspace folder. */
  workspaceDir(): string;
  /** Opens another workspace (File > Open Workspace…); refused while a run trains. */
  openWorkspace(dir: string): Promise<WorkspaceInfo>;
  /** Stops the trainer. */
  dispose(): Promise<void>;
}

export function createHost(opts: HostOptions): Host {
  const bus = new EventEmitter();
  bus.setMaxListeners(100);
  const emit = <N extends EventName>(name: N, payload: EventPayload<N>) => bus.emit('event', name, payload);

  // Everything bound to the workspace folder is made per workspace, so opening another one swaps
  // it whole; the handler table below forwards to whichever is current.
  const makeServices = (opened: OpenedWorkspace) => {
    const dir = opened.dir;
    const runs = createRunsService({
      trainer: opts.trainer,
      workspaceDir: dir,
      emit,
      maxConcurrent: () => opened.settings.maxConcurrentRuns,
      app: opts.mode,
    });
    const datasets = datasetHandlers(opts.trainer, dir, emit, (id) => datasetInUse(dir, id, runs.busy(), runs.owns));
    const handlers = {
      ...runs.handlers,
      ...datasets.handlers,
      ...galleryHandlers(opts.trainer, dir, (id) => runs.get(id)),
      ...evaluateHandlers(opts.trainer, dir, (id) => runs.get(id)),
      ...noiseHandlers(opts.trainer, dir, () => runs.activeCount()),
      ...exportHandlers({
        trainer: opts.trainer,
        workspaceDir: dir,
        dialogs: opts.dialogs,
        getRun: (id) => runs.get(id),
        listRuns: () => runs.list(),
        addImportedRun: (run) => runs.add(run),
      }),
      ...jobHandlers({
        trainer: opts.trainer,
        workspaceDir: dir,
        dialogs: opts.dialogs,
        getRun: (id) => runs.get(id),
        listRuns: () => runs.list(),
        addImportedRun: (run) => runs.add(run),
        app: opts.mode,
      }),
    };
    return {
      opened,
      runs,
      handlers,
      dispose() {
        runs.dispose();
        datasets.dispose();
      },
    };
  };
  type Services = ReturnType<typeof makeServices>;
  let current: Services = makeServices(openWorkspaceDir(opts.workspaceDir));

  const info = (): WorkspaceInfo => {
    const { opened } = current;
    const inv = inventory(opened.dir);
    return {
      path: opened.dir,
      schemaVersion: opened.schemaVersion,
      datasets: inv.datasets,
      runs: current.runs.count(),
      exports: inv.exports,
      flagged: [...opened.flagged, ...inv.flagged],
      settings: opened.settings,
      nativeDialogs: !!opts.dialogs,
    };
  };

  const openWorkspace = async (dir: string): Promise<WorkspaceInfo> => {
    const busy = current.runs.busy();
    if (busy.length)
      throw new CallError(
        'conflict',
        `${busy.length === 1 ? 'A run is' : `${busy.length} runs are`} training in this workspace; stop ${busy.length === 1 ? 'it' : 'them'} before opening another workspace.`,
      );
    let opened: OpenedWorkspace;
    try {
      opened = openWorkspaceDir(dir);
    } catch (err) {
      throw new CallError('invalid_payload', (err as Error).message);
    }
    current.dispose();
    current = makeServices(opened);
    opts.onWorkspaceOpened?.(dir);
    const now = info();
    emit('workspace:changed', now);
    return now;
  };

  const bound = Object.fromEntries(
    (Object.keys(current.handlers) as Array<keyof Services['handlers']>).map((k) => [
      k,
      (req: never) => (current.handlers[k] as (r: never) => unknown)(req),
    ]),
  ) as Services['handlers'];

  const handlers: Handlers = {
    'app:info': () => ({
      name: 'Autoencoder Studio',
      version: opts.version,
      mode: opts.mode,
      platform: `${process.platform}-${process.arch}`,
      nodeVersion: process.versions.node,
    }),
    ...trainerHandlers(opts.trainer),
    ...bound,
    'workspace:info': () => info(),
    'workspace:open': async ({ path: dir }) => {
      let target = dir;
      if (!target) {
        if (!opts.dialogs)
          throw new CallError('invalid_payload', 'Type the absolute path of the workspace folder to open.');
        target = await opts.dialogs.pickDirectory('Open a workspace folder');
        if (!target) return { cancelled: true, info: info() };
      }
      return { cancelled: false, info: await openWorkspace(target) };
    },
    'settings:set': async (changes) => {
      let next;
      try {
        // read-modify-write under the settings lock: another studio's keys written meanwhile are kept
        next = await updateSettings(current.opened.dir, changes);
      } catch (err) {
        if (err instanceof CallError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        throw new CallError(
          code === 'ENOSPC' || code === 'EDQUOT' ? 'disk_full' : 'internal',
          `The settings could not be saved: ${code ?? (err as Error).message}. The previous settings are kept.`,
        );
      }
      current.opened.settings = next;
      current.runs.reschedule();
      current.opened.flagged = current.opened.flagged.filter((f) => f.item !== 'settings.json');
      emit('workspace:changed', info());
      return next;
    },
  };

  const onState = (s: EventPayload<'trainer:state'>) => {
    emit('trainer:state', s);
    if (s.state === 'crashed')
      emit('app:notice', { level: 'error', message: s.error ?? 'The trainer stopped.', at: s.at });
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
    workspaceDir: () => current.opened.dir,
    openWorkspace,
    async dispose() {
      opts.trainer.off('state', onState);
      current.dispose();
      await current.runs.flush(); // the last run.json writes land before the process may exit
      await opts.trainer.stop();
    },
  };
}
