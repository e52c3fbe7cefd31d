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
  /** `ws(s)://host/ws?token=…` */
  url: string;
  /** Makes the socket; the browser's WebSocket unless a test passes a fake. */
  createSocket?: SocketFactory;
  /** First reconnect delay; doubles up to 5 s. */
  retryMs?: number;
  /** Time limit of one call. */
  callTimeoutMs?: number;
}

export function socketTransport(opts: SocketOptions): Transport & { close(): void } {
  const create = opts.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
  const pending = new Map<number, { resolve: (e: Envelope) => void; timer: ReturnType<typeof setTimeout> }>();
  /** Frames written while the socket is not open, by call id; sent in order once it opens. */
  const queue = new Map<number, string>();
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
      p.resolve({ ok: false, error: { code: 'disconnected', message } });
      pending.delete(id);
    }
    // A call reported as failed must not run later, when the socket comes back.
    queue.clear();
  };

  const lost = () => {
    failPending('The connection to the studio host was lost. Reconnecting…');
    setState('disconnected');
    if (!closed) {
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5_000);
    }
  };

  const connect = () => {
    if (closed) return;
    setState('connecting');
    let ws: SocketLike;
    try {
      ws = create(opts.url);
    } catch {
      socket = undefined;
      lost(); // e.g. a malformed address; try again later like any other drop
      return;
    }
    socket = ws;
    ws.onopen = () => {
      retry = opts.retryMs ?? 500;
      setState('connected');
      for (const frame of queue.values()) ws.send(frame);
      queue.clear();
    };
    ws.onmessage = (ev) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (!frame || typeof frame !== 'object') return;
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
      if (socket === ws) lost();
    };
  };
  connect();

  return {
    get connection() {
      return state;
    },
    invoke(name: CallName, payload: unknown) {
      // Between reconnect attempts a call fails at once rather than waiting for a host that is gone.
      if (state === 'disconnected' || closed) {
        return Promise.resolve<Envelope>({
          ok: false,
          error: { code: 'disconnected', message: 'Not connected to the studio host. Reconnecting…' },
        });
      }
      const id = nextId++;
      const frame: ClientFrame = { id, call: name, payload };
      return new Promise<Envelope>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          queue.delete(id);
          resolve({
            ok: false,
            error: { code: 'timeout', message: `The studio host did not answer '${name}' in time.` },
          });
        }, opts.callTimeoutMs ?? 120_000);
        pending.set(id, { resolve, timer });
        const data = JSON.stringify(frame);
        if (socket && socket.readyState === OPEN) socket.send(data);
        else queue.set(id, data);
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

const TOKEN_KEY = 'ae-token';

/** The serve-mode token: from `?token=` on first load, then from this tab's session storage. */
export function readToken(
  location: { search: string },
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined,
): string | undefined {
  const fromUrl = new URLSearchParams(location.search).get('token') ?? undefined;
  try {
    if (fromUrl) storage?.setItem(TOKEN_KEY, fromUrl);
    return fromUrl ?? storage?.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return fromUrl; // storage disabled: the token in the address still works for this load
  }
}
