// Picks the transport for this page: Electron's preload bridge when present, else the serve-mode
// WebSocket with the token from the address. The app gets its client through `provideApi`.
import type { StudioBridge } from '@contract/bridge';
import { createClient, type ApiClient } from './client';
import { bridgeTransport } from './bridge';
import { readToken, socketTransport } from './socket';
import type { ConnectionState, Transport } from './transport';

/** A transport for a page opened without a token: every call fails with a clear message. */
function noTokenTransport(): Transport {
  return {
    connection: 'no-token',
    invoke: async () => ({ ok: false, error: { code: 'forbidden', message: 'No access token: open the address printed by `npm run serve`.' } }),
    on: () => () => undefined,
    onConnection: () => () => undefined,
  };
}

export function createDefaultClient(win: Window & { studio?: StudioBridge } = window): ApiClient {
  if (win.studio) return createClient(bridgeTransport(win.studio));
  const token = readToken(win.location, win.sessionStorage);
  if (!token) return createClient(noTokenTransport());
  const scheme = win.location.protocol === 'https:' ? 'wss' : 'ws';
  return createClient(socketTransport({ url: `${scheme}://${win.location.host}/ws?token=${encodeURIComponent(token)}` }));
}

export type { ApiClient, ConnectionState };
export { ApiError, describeError } from './client';
