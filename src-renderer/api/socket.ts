// Serve-mode transport: the contract over a WebSocket (frames: ClientFrame / ServerFrame).
// Reconnects with backoff; calls pending when the socket drops fail with a typed error.
import type { CallName, ClientFrame, Envelope, EventName, ServerFrame } from '@contract';
import type { ConnectionState, Transport } from './transport';

/** The subset of the browser WebSocket we use (tests inject a fake). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

const OPEN = 1;

export interface SocketOptions {
  url: string;
  createSocket?: SocketFactory;
  /** First reconnect delay; doubles up to 5 s. */
  retryMs?: number;
  /** Time limit of one call. */
  callTimeoutMs?: number;
}

export function socketTransport(opts: SocketOptions): Transport & { close(): void } {
  const create = opts.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
  const pending = new Map<number, { resolve: (e: Envelope) => void; timer: ReturnType<typeof setTimeout> }>();
  const queue: string[] = [];
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const connListeners = new Set<(s: ConnectionState) => void>();
  let nextId = 1;
  let socket: SocketLike | undefined;
  let state: ConnectionState = 'connecting';
  let retry = opts.retryMs ?? 500;
  let closed = false;

  const setState = (s: ConnectionState) => {
    state = s;
    for (const l of connListeners) l(s);
  };
  const failPending = (message: string) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.resolve({ ok: false, error: { code: 'trainer_unavailable', message } });
      pending.delete(id);
    }
  };

  const connect = () => {
    if (closed) return;
    setState('connecting');
    const ws = create(opts.url);
    socket = ws;
    ws.onopen = () => {
      retry = opts.retryMs ?? 500;
      setState('connected');
      for (const frame of queue.splice(0)) ws.send(frame);
    };
    ws.onmessage = (ev) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if ('event' in frame) {
        for (const l of listeners.get(frame.event) ?? []) l(frame.payload);
      } else if (typeof frame.id === 'number') {
        const p = pending.get(frame.id);
        if (!p) return;
        pending.delete(frame.id);
        clearTimeout(p.timer);
        const { id: _id, ...envelope } = frame;
        p.resolve(envelope as Envelope);
      }
    };
    ws.onerror = () => undefined; // onclose follows
    ws.onclose = () => {
      if (socket !== ws) return;
      failPending('The connection to the studio host was lost. Reconnecting…');
      setState('disconnected');
      if (!closed) {
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 5_000);
      }
    };
  };
  connect();

  return {
    get connection() {
      return state;
    },
    invoke(name: CallName, payload: unknown) {
      const id = nextId++;
      const frame: ClientFrame = { id, call: name, payload };
      return new Promise<Envelope>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({ ok: false, error: { code: 'timeout', message: `The studio host did not answer '${name}' in time.` } });
        }, opts.callTimeoutMs ?? 120_000);
        pending.set(id, { resolve, timer });
        const data = JSON.stringify(frame);
        if (socket && socket.readyState === OPEN) socket.send(data);
        else queue.push(data);
      });
    },
    on(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    onConnection(listener) {
      connListeners.add(listener);
      return () => connListeners.delete(listener);
    },
    close() {
      closed = true;
      failPending('The connection was closed.');
      socket?.close();
    },
  };
}

/** The serve-mode token: from `?token=` on first load, then from this tab's session storage. */
export function readToken(location: { search: string }, storage: Pick<Storage, 'getItem' | 'setItem'> | undefined): string | undefined {
  const fromUrl = new URLSearchParams(location.search).get('token') ?? undefined;
  if (fromUrl) {
    storage?.setItem('ae-token', fromUrl);
    return fromUrl;
  }
  return storage?.getItem('ae-token') ?? undefined;
}
