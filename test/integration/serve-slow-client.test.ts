// Serve mode with a client that stops reading: over real loopback sockets, a host emits large
// previews and small state events; the client that reads keeps up with every one, the one that
// stopped reading is sent no previews past SLOW_CLIENT_BYTES queued (so the host's memory does not
// grow with it) but every state event, in order, and catches up with previews when it reads again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type net from 'node:net';
import WebSocket from 'ws';
import { createHost, type Host } from '../../src-main/host';
import { SLOW_CLIENT_BYTES, startServeServer, type ServeHandle } from '../../src-main/serve/server';
import { createTestSupervisor } from '../helpers/trainer';
import type { RunEventPayload, RunStatusPayload } from '../../src-main/contract';

let host: Host;
let server: ServeHandle;
let staticDir: string;
let workspace: string;
const TOKEN = 'slow-client-token-0123456789';

function connect(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${TOKEN}`, {
      origin: `http://127.0.0.1:${server.port}`,
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Every event frame a client reads, and the bytes it read. */
function record(ws: WebSocket) {
  const got = { frames: [] as Array<{ event: string; payload: unknown }>, bytes: 0 };
  ws.on('message', (data: WebSocket.RawData) => {
    got.bytes += (data as Buffer).length;
    const msg = JSON.parse(data.toString());
    if ('event' in msg) got.frames.push(msg);
  });
  return got;
}

const preview = (i: number): RunEventPayload => {
  const image = Buffer.alloc(48 * 1024, i % 251).toString('base64'); // 64 KB of base64 per image
  return {
    runId: 'run-slow',
    event: {
      type: 'preview',
      epoch: 1,
      batch: i,
      width: 128,
      height: 128,
      channels: 3,
      originals: [image],
      noisy: [],
      reconstructions: [image],
    },
  };
};
const status = (i: number): RunStatusPayload => ({ runId: 'run-slow', status: 'running', epochsDone: i });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-serve-slow-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Autoencoder Studio</title>');
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-serve-slow-ws-'));
  host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: workspace });
  server = await startServeServer({ host, staticDir, token: TOKEN });
});

afterAll(async () => {
  await server?.close();
  await host?.dispose();
  fs.rmSync(staticDir, { recursive: true, force: true });
  fs.rmSync(workspace, { recursive: true, force: true });
});

describe('serve mode with a client that stops reading', () => {
  it('drops previews for it past the limit, keeps every state event in order, and lets it catch up', async () => {
    const fast = await connect();
    const slow = await connect();
    const fastGot = record(fast);
    const slowGot = record(slow);
    const socket = (slow as unknown as { _socket: net.Socket })._socket;
    socket.pause(); // the slow client stops reading; the kernel's buffers fill, then the server's queue

    const N = 300; // 300 previews of ~130 KB: ~39 MB, far past what the kernel buffers hold
    const until = Date.now() + 60_000;
    for (let i = 1; i <= N; i++) {
      host.emit('runs:event', preview(i));
      host.emit('runs:status', status(i));
      // at the pace of the client that reads (a burst faster than any reader may cost it previews too)
      while (fastGot.frames.filter((f) => f.event === 'runs:status').length < i && Date.now() < until) await wait(1);
    }
    await wait(300);
    const previewBytes = JSON.stringify({ event: 'runs:event', payload: preview(1) }).length;
    expect(previewBytes * N).toBeGreaterThan(20 * SLOW_CLIENT_BYTES);

    // the client that reads got everything
    while (fastGot.frames.filter((f) => f.event === 'runs:status').length < N && Date.now() < until) await wait(20);
    expect(fastGot.frames.filter((f) => f.event === 'runs:event')).toHaveLength(N);

    // the slow one reads again: every state event, in order; previews only up to about the limit plus what the kernel held
    socket.resume();
    while (slowGot.frames.filter((f) => f.event === 'runs:status').length < N && Date.now() < until) await wait(20);
    const states = slowGot.frames
      .filter((f) => f.event === 'runs:status')
      .map((f) => (f.payload as RunStatusPayload).epochsDone);
    expect(states).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const slowPreviews = slowGot.frames.filter((f) => f.event === 'runs:event').length;
    expect(slowPreviews).toBeLessThan(N / 2);
    expect(slowGot.bytes).toBeLessThan(fastGot.bytes / 2);

    // caught up: new previews reach it again
    const before = slowPreviews;
    host.emit('runs:event', preview(N + 1));
    const until2 = Date.now() + 5000;
    while (slowGot.frames.filter((f) => f.event === 'runs:event').length === before && Date.now() < until2)
      await wait(20);
    expect(slowGot.frames.filter((f) => f.event === 'runs:event').length).toBe(before + 1);
    fast.close();
    slow.close();
  });
});
