// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { readToken, socketTransport, type SocketLike } from '../../../src-renderer/api/socket';

class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(d: string) {
    this.sent.push(d);
  }
  close() {
    this.readyState = 3;
    this.onclose?.({});
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  reply(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

describe('serve-mode socket transport', () => {
  it('queues calls until open, sends ClientFrames and resolves by id', async () => {
    FakeSocket.all = [];
    const t = socketTransport({ url: 'ws://127.0.0.1:1/ws?token=t', createSocket: (u) => new FakeSocket(u) });
    const ws = FakeSocket.all[0];
    expect(ws.url).toBe('ws://127.0.0.1:1/ws?token=t');
    const p1 = t.invoke('app:info', {});
    const p2 = t.invoke('trainer:ping', { nonce: 'a' });
    expect(ws.sent).toEqual([]);
    ws.open();
    expect(ws.sent.map((s) => JSON.parse(s))).toEqual([
      { id: 1, call: 'app:info', payload: {} },
      { id: 2, call: 'trainer:ping', payload: { nonce: 'a' } },
    ]);
    ws.reply({ id: 2, ok: true, result: { nonce: 'a', pid: 1, uptimeMs: 1 } });
    ws.reply({ id: 1, ok: false, error: { code: 'internal', message: 'x' } });
    expect(await p2).toEqual({ ok: true, result: { nonce: 'a', pid: 1, uptimeMs: 1 } });
    expect(await p1).toEqual({ ok: false, error: { code: 'internal', message: 'x' } });
    t.close();
  });

  it('delivers event frames and ignores junk', () => {
    FakeSocket.all = [];
    const t = socketTransport({ url: 'ws://x/ws', createSocket: (u) => new FakeSocket(u) });
    const ws = FakeSocket.all[0];
    ws.open();
    const got: unknown[] = [];
    t.on('trainer:state', (p) => got.push(p));
    ws.onmessage?.({ data: 'not json' });
    ws.reply({ event: 'trainer:state', payload: { state: 'ready', starts: 1, at: 1 } });
    ws.reply({ event: 'app:notice', payload: { level: 'info', message: 'm', at: 1 } });
    expect(got).toEqual([{ state: 'ready', starts: 1, at: 1 }]);
    t.close();
  });

  it('fails pending calls when the socket drops, then reconnects', async () => {
    FakeSocket.all = [];
    const states: string[] = [];
    const t = socketTransport({ url: 'ws://x/ws', createSocket: (u) => new FakeSocket(u), retryMs: 5 });
    t.onConnection((s) => states.push(s));
    FakeSocket.all[0].open();
    const pending = t.invoke('backend:info', {});
    FakeSocket.all[0].close();
    expect(await pending).toMatchObject({ ok: false, error: { code: 'trainer_unavailable' } });
    expect(t.connection).toBe('disconnected');
    await new Promise((r) => setTimeout(r, 30));
    expect(FakeSocket.all.length).toBe(2);
    FakeSocket.all[1].open();
    expect(t.connection).toBe('connected');
    expect(states).toEqual(['connected', 'disconnected', 'connecting', 'connected']);
    t.close();
  });

  it('reads the token from the address, then from session storage', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(readToken({ search: '?token=abc' }, storage)).toBe('abc');
    expect(readToken({ search: '' }, storage)).toBe('abc');
    expect(readToken({ search: '' }, undefined)).toBeUndefined();
  });
});
