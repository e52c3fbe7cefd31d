// Picks the transport for this page: Electron's preload bridge when present, else the serve-mode
// WebSocket with the token from the address. main.ts hands the client to the stores (instance.ts).
import type { StudioBridge } from '@contract/bridge';
import { createClient, type ApiClient } from './client';
import { bridgeTransport } from './bridge';
import { readToken, socketTransport, type SocketFactory } from './socket';
import type { ConnectionState, Transport } from './transport';

/** A transport for a page opened without a token: every call fails with a clear message. */
function noTokenTransport(): Transport {
  return {
    connection: 'no-token',
    invoke: async () => ({
      ok: false,
      error: { code: 'forbidden', message: 'No access token: open the address printed by `npm run serve`.' },
    }),
    on: () => () => undefined,
    onConnection: () => () => undefined,
  };
}

/** The parts of `window` the choice depends on (tests pass a plain object). */
export interface PageEnv {
  studio?: StudioBridge;
  location: Pick<Location, 'protocol' | 'host' | 'search'>;
  sessionStorage?: Pick<Storage, 'getItem' | 'setItem'>;
}

/** Electron (`window.studio` from the preload) → bridge; otherwise serve mode → WebSocket with the token. */
export function createDefaultClient(win: PageEnv = window as PageEnv, createSocket?: SocketFactory): ApiClient {
  if (win.studio) return createClient(bridgeTransport(win.studio));
  const token = readToken(win.location, sessionStorageOf(win));
  if (!token) return createClient(noTokenTransport());
  const scheme = win.location.protocol === 'https:' ? 'wss' : 'ws';
  return createClient(
    socketTransport({ url: `${scheme}://${win.location.host}/ws?token=${encodeURIComponent(token)}`, createSocket }),
  );
}

/** Session storage, or none where the page may not use it (it throws in some sandboxed frames). */
function sessionStorageOf(win: PageEnv): PageEnv['sessionStorage'] {
  try {
    return win.sessionStorage;
  } catch {
    return undefined;
  }
}

export type { ApiClient, ConnectionState };
export { ApiError, describeError } from './client';
