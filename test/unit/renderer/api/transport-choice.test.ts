// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { StudioBridge } from '@contract/bridge';
import type { EventName } from '@contract';
import { createDefaultClient } from '../../../../src-renderer/api';
import { ApiError } from '../../../../src-renderer/api/client';
import type { SocketLike } from '../../../../src-renderer/api/socket';
import { APP, INFO } from '../fake-host';

/** A stand-in for the preload's `window.studio`, built the way the preload builds it: one function per name. */
function fakeBridge() {
  const calls: Array<[string, unknown]> = [];
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const bridge = {
    calls: new Proxy(
      {},
      {
        get: (_t, name: string) => async (payload: unknown) => {
          calls.push([name, payload]);
          if (name === 'backend:info') return { ok: true, result: INFO };
          return { ok: false, error: { code: 'internal', message: `no fake for ${name}` } };
        },
      },
    ),
    events: new Proxy(
      {},
      {
        get: (_t, name: string) => (l: (p: unknown) => void) => {
          const set = listeners.get(name) ?? new Set();
          listeners.set(name, set.add(l));
          return () => set.delete(l);
        },
      },
    ),
    getPathForFile: () => '/tmp/x.png',
  } as unknown as StudioBridge;
  const emit = (name: EventName, p: unknown) => listeners.get(name)?.forEach((l) => l(p));
  return { bridge, calls, emit, listeners };
}

const noStorage = { getItem: () => null, setItem: () => undefined };

describe('choosing the transport', () => {
  it('uses the Electron bridge when window.studio is there', async () => {
    const { bridge, calls, emit, listeners } = fakeBridge();
    const client = createDefaultClient({ studio: bridge, location: { protocol: 'app:', host: 'studio', search: '' } });
    expect(client.connection).toBe('connected');
    expect(await client.invoke('backend:info', {})).toEqual(INFO);
    expect(calls).toEqual([['backend:info', {}]]);
    const err = await client.invoke('app:info', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('internal');
    const got: string[] = [];
    const off = client.on('app:notice', (n) => got.push(n.message));
    emit('app:notice', { level: 'info', message: 'hello', at: 1 });
    off();
    emit('app:notice', { level: 'info', message: 'after', at: 2 });
    expect(got).toEqual(['hello']);
    expect(listeners.get('app:notice')?.size).toBe(0);
  });

  it('without a bridge or a token, every call fails with a plain message', async () => {
    const client = createDefaultClient({
      location: { protocol: 'http:', host: '127.0.0.1:1', search: '' },
      sessionStorage: noStorage,
    });
    expect(client.connection).toBe('no-token');
    const err = await client.invoke('app:info', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('forbidden');
    expect(err.message).toMatch(/npm run serve/);
  });

  it('opens the serve-mode socket on this host with the token, wss under https', async () => {
    const urls: string[] = [];
    const fake = (url: string): SocketLike => {
      urls.push(url);
      const ws: SocketLike = {
        readyState: 0,
        send: (d) => {
          const { id } = JSON.parse(d);
          queueMicrotask(() => ws.onmessage?.({ data: JSON.stringify({ id, ok: true, result: APP }) }));
        },
        close: () => undefined,
        onopen: null,
        onclose: null,
        onerror: null,
        onmessage: null,
      };
      queueMicrotask(() => {
        ws.readyState = 1;
        ws.onopen?.({});
      });
      return ws;
    };
    const page = {
      location: { protocol: 'https:', host: 'box:8443', search: '?token=a+b/c' },
      sessionStorage: noStorage,
    };
    const client = createDefaultClient(page, fake);
    expect(urls).toEqual(['wss://box:8443/ws?token=a%20b%2Fc']);
    expect(await client.invoke('app:info', {})).toEqual(APP);
    createDefaultClient({ ...page, location: { ...page.location, protocol: 'http:', search: '?token=t' } }, fake);
    expect(urls[1]).toBe('ws://box:8443/ws?token=t');
  });
});
