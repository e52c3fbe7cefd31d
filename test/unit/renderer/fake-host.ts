// An in-memory transport for renderer tests: a tiny fake host at the transport boundary.
import {
  ModelConfig,
  type CallName,
  type CallReq,
  type CallRes,
  type Envelope,
  type EventName,
  type ModelConfigInput,
} from '@contract';

/** A fake handler answers like the host: the call's request in, an envelope of the call's response out. */
export type FakeHandlers = {
  [N in CallName]?: (payload: CallReq<N>) => Envelope<CallRes<N>> | Promise<Envelope<CallRes<N>>>;
};
import type { ConnectionState, Transport } from '../../../src-renderer/api/transport';

export class FakeTransport implements Transport {
  connection: ConnectionState = 'connected';
  calls: Array<{ name: CallName; payload: unknown }> = [];
  private listeners = new Map<EventName, Set<(p: unknown) => void>>();
  private connListeners = new Set<(s: ConnectionState) => void>();
  constructor(public handlers: FakeHandlers = {}) {}

  async invoke(name: CallName, payload: unknown): Promise<Envelope> {
    this.calls.push({ name, payload });
    const h = this.handlers[name] as ((p: unknown) => Envelope | Promise<Envelope>) | undefined;
    return h ? h(payload) : { ok: false, error: { code: 'unknown_call', message: `no fake for ${name}` } };
  }
  on(name: EventName, listener: (p: unknown) => void) {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }
  onConnection(listener: (s: ConnectionState) => void) {
    this.connListeners.add(listener);
    return () => void this.connListeners.delete(listener);
  }
  /** Simulates the transport's connection changing (serve mode). */
  setConnection(s: ConnectionState) {
    this.connection = s;
    for (const l of this.connListeners) l(s);
  }
  emit(name: EventName, payload: unknown) {
    for (const l of this.listeners.get(name) ?? []) l(payload);
  }
  listenerCount(name: EventName) {
    return this.listeners.get(name)?.size ?? 0;
  }
}

export const INFO = {
  backend: 'tensorflow',
  tfVersion: '2.21.0',
  tfjsVersion: '4.22.0',
  threads: 2,
  pid: 4242,
} as const;
export const APP = {
  name: 'Autoencoder Studio',
  version: '0.1.0',
  mode: 'serve',
  platform: 'linux-x64',
  nodeVersion: '20.20.2',
} as const;

export function readyHost() {
  return new FakeTransport({
    'app:info': () => ({ ok: true, result: APP }),
    'backend:info': () => ({ ok: true, result: INFO }),
    'trainer:restart': () => ({ ok: true, result: { state: 'ready', info: { ...INFO, pid: 5000 }, starts: 2, at: 1 } }),
    'datasets:list': () => ({ ok: true, result: [] }),
    'runs:list': () => ({ ok: true, result: [] }),
  });
}

/**
 * What a real host adds to each run it lists (host/runs.ts decides it from the run folder): the fake
 * has no folder, so a finished run has a model, an imported one has its weights, and a stopped or
 * failed run resumes from its checkpoint when an epoch was saved.
 */
export function hostDecided<T extends { runId: string; status: string; epochsDone: number }>(
  s: T,
): T & { hasModel: boolean; resume?: 'checkpoint' | 'model' | 'start' } {
  const settled = s.status !== 'running' && s.status !== 'queued' && s.status !== 'damaged';
  const hasModel = settled && (s.status === 'completed' || s.runId.startsWith('imported-'));
  const resumable = s.status === 'stopped' || s.status === 'failed';
  return {
    ...s,
    hasModel,
    ...(resumable ? { resume: s.epochsDone > 0 ? 'checkpoint' : hasModel ? 'model' : 'start' } : {}),
  } as T & { hasModel: boolean; resume?: 'checkpoint' | 'model' | 'start' };
}

/** A run's config as the host lists it (every default filled in), from the few settings a test cares about; 28×28×1 images unless given. */
export const runConfig = (c: Partial<ModelConfigInput> = {}): ModelConfig =>
  ModelConfig.parse({ inputShape: [28, 28, 1], ...c });
