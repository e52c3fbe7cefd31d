// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { readToken, socketTransport, type SocketLike } from '../../../../src-renderer/api/socket';

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
    expect(await pending).toMatchObject({ ok: false, error: { code: 'disconnected' } });
    expect(t.connection).toBe('disconnected');
    await new Promise((r) => setTimeout(r, 30));
    expect(FakeSocket.all.length).toBe(2);
    FakeSocket.all[1].open();
    expect(t.connection).toBe('connected');
    expect(states).toEqual(['connected', 'disconnected', 'connecting', 'connected']);
    t.close();
  });

  it('does not replay a call after reporting it failed', async () => {
    FakeSocket.all = [];
    const t = socketTransport({ url: 'ws://x/ws', createSocket: (u) => new FakeSocket(u), retryMs: 5 });
    // The host is not up yet: the call is queued, then the first attempt fails.
    const early = t.invoke('runs:stop', { runId: 'r1' });
    FakeSocket.all[0].close();
    expect(await early).toMatchObject({ ok: false, error: { code: 'disconnected' } });
    // While waiting to reconnect, calls fail at once instead of hanging.
    expect(await t.invoke('app:info', {})).toMatchObject({ ok: false, error: { code: 'disconnected' } });
    await new Promise((r) => setTimeout(r, 30));
    FakeSocket.all[1].open();
    expect(FakeSocket.all[1].sent).toEqual([]);
    t.close();
  });

  it('answers a call the host never answers with a timeout error', async () => {
    FakeSocket.all = [];
    const t = socketTransport({ url: 'ws://x/ws', createSocket: (u) => new FakeSocket(u), callTimeoutMs: 10 });
    FakeSocket.all[0].open();
    expect(await t.invoke('backend:info', {})).toMatchObject({ ok: false, error: { code: 'timeout' } });
    t.close();
  });

  it('ignores frames that are not objects or answer no pending call', async () => {
    FakeSocket.all = [];
    const t = socketTransport({ url: 'ws://x/ws', createSocket: (u) => new FakeSocket(u) });
    const ws = FakeSocket.all[0];
    ws.open();
    const p = t.invoke('app:info', {});
    for (const junk of ['5', 'null', '"text"']) ws.onmessage?.({ data: junk });
    ws.reply({ id: 99, ok: true, result: {} });
    ws.reply({ id: 1, ok: true, result: { name: 'A' } });
    expect(await p).toEqual({ ok: true, result: { name: 'A' } });
    t.close();
  });

  it('stops reconnecting once closed', async () => {
    FakeSocket.all = [];
    const t = socketTransport({ url: 'ws://x/ws', createSocket: (u) => new FakeSocket(u), retryMs: 5 });
    FakeSocket.all[0].open();
    t.close();
    await new Promise((r) => setTimeout(r, 30));
    expect(FakeSocket.all.length).toBe(1);
    expect(t.connection).toBe('disconnected');
  });

  it('reads the token from the address, then from session storage', () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
    };
    expect(readToken({ search: '?token=abc' }, storage)).toBe('abc');
    expect(readToken({ search: '' }, storage)).toBe('abc');
    expect(readToken({ search: '' }, undefined)).toBeUndefined();
    expect(readToken({ search: '?token=new' }, storage)).toBe('new');
    expect(store.get('ae-token')).toBe('new');
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(readToken({ search: '?token=abc' }, broken)).toBe('abc');
    expect(readToken({ search: '' }, broken)).toBeUndefined();
  });
});
