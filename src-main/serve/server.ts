// Serve mode: the same host, headless, behind HTTP (the built renderer) and a WebSocket (the
// contract). Loopback by default; every request and socket needs the token; the socket's Origin
// must be this server; the CSP (host/csp.ts) is sent as a header.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sendExport } from './downloads';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Host } from '../host';
import type { EventName, RunEventPayload, ServerFrame } from '../contract';
import { CSP } from '../host/csp';

/**
 * Bytes queued for one client (not yet taken by its socket) above which the events it can do
 * without — a run's previews and batch progress — are dropped for it, so a client that stops
 * reading cannot grow the host's memory by more than this plus its state events; it gets them
 * again once it has read what was queued.
 */
export const SLOW_CLIENT_BYTES = 1024 * 1024;

/** Events a slow client may miss: the next one replaces them (a preview, a batch's progress). */
function droppable(event: EventName, payload: unknown): boolean {
  if (event !== 'runs:event') return false;
  const type = (payload as RunEventPayload).event.type;
  return type === 'preview' || type === 'batch';
}

/** The same policy as the desktop window (host/csp.ts), re-exported for serve mode's tests. */
export { CSP };

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export interface ServeOptions {
  host: Host;
  /** Folder with the built renderer (index.html + assets/). */
  staticDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Address to bind; loopback unless the user asked otherwise. */
  bindAddress?: string;
  /** Fixed token (tests); a random 256-bit token otherwise. */
  token?: string;
  /** Largest WebSocket frame accepted, bytes. */
  maxPayload?: number;
}

export interface ServeHandle {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'ae_token';

/** Constant-time comparison of a presented token with the real one. */
export function tokenMatches(presented: string | undefined | null, token: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = crypto.createHash('sha256').update(presented).digest();
  const b = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(a, b) && presented.length === token.length;
}

function cookieToken(req: http.IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export function isLoopback(address: string): boolean {
  return address === '127.0.0.1' || address === '::1' || address === 'localhost';
}

export async function startServeServer(opts: ServeOptions): Promise<ServeHandle> {
  const token = opts.token ?? crypto.randomBytes(32).toString('base64url');
  const bindAddress = opts.bindAddress ?? '127.0.0.1';
  const staticDir = path.resolve(opts.staticDir);
  if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
    throw new Error(
      `The renderer is not built (${path.join(staticDir, 'index.html')} is missing). Run \`npm run build\`.`,
    );
  }
  let port = 0;

  /** DNS-rebinding guard: on loopback only our own Host names are served. */
  const hostAllowed = (req: http.IncomingMessage) => {
    if (!isLoopback(bindAddress)) return true;
    const h = req.headers.host ?? '';
    return h === `127.0.0.1:${port}` || h === `localhost:${port}` || h === `[::1]:${port}`;
  };

  const authorised = (req: http.IncomingMessage, url: URL) =>
    tokenMatches(url.searchParams.get('token'), token) || tokenMatches(cookieToken(req), token);

  const server = http.createServer((req, res) => {
    const baseHeaders = {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    const deny = (status: number, text: string) => {
      res.writeHead(status, { ...baseHeaders, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(text);
    };
    if (!hostAllowed(req)) return deny(403, 'Forbidden host.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(405, 'Method not allowed.');
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (!authorised(req, url)) {
      // A small HTML page (not plain text) so the browser does not also ask for /favicon.ico.
      res.writeHead(401, { ...baseHeaders, 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(
        '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>Token required</title>' +
          '<p>Missing or wrong token. Open the address that <code>npm run serve</code> printed (it ends with ?token=…).</p>',
      );
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return deny(400, 'Bad path.');
    }
    if (rel.includes('\0')) return deny(400, 'Bad path.');
    const exportMatch = /^\/exports\/(exp-[a-z0-9-]{1,60})$/.exec(rel);
    if (exportMatch) {
      if (!sendExport(opts.host.workspaceDir(), exportMatch[1], req, res, baseHeaders)) deny(404, 'No such export.');
      return;
    }
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(staticDir, `.${path.posix.normalize(rel)}`);
    if (!file.startsWith(staticDir + path.sep)) return deny(403, 'Forbidden path.');
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return deny(404, 'Not found.');
      const headers: Record<string, string> = {
        ...baseHeaders,
        'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'Content-Length': String(st.size),
      };
      // The token moves from the address bar into an HttpOnly cookie so assets load without it.
      if (tokenMatches(url.searchParams.get('token'), token)) {
        headers['Set-Cookie'] = `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
      }
      res.writeHead(200, headers);
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload ?? 16 * 1024 * 1024 });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const refuse = (status: number, text: string) => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (!hostAllowed(req)) return refuse(403, 'Forbidden');
    const origin = req.headers.origin;
    if (!origin || origin !== `http://${req.headers.host}`) return refuse(403, 'Forbidden');
    if (!authorised(req, url)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const sendFrame = (ws: WebSocket, frame: ServerFrame) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };

  wss.on('connection', (ws) => {
    sockets.add(ws);
    const unsubscribe = opts.host.subscribe((event, payload) => {
      // a client that reads too slowly gets no more previews or batch progress until it caught up; state events always go
      if (ws.bufferedAmount > SLOW_CLIENT_BYTES && droppable(event, payload)) return;
      sendFrame(ws, { event, payload });
    });
    ws.on('message', async (data, isBinary) => {
      let frame: { id?: unknown; call?: unknown; payload?: unknown };
      try {
        if (isBinary) throw new Error('binary');
        frame = JSON.parse(data.toString());
        if (!frame || typeof frame !== 'object') throw new Error('not an object');
      } catch {
        return sendFrame(ws, {
          id: -1,
          ok: false,
          error: { code: 'invalid_payload', message: 'Frames must be JSON objects {id, call, payload}.' },
        });
      }
      const id = typeof frame.id === 'number' && Number.isSafeInteger(frame.id) ? frame.id : -1;
      const envelope = await opts.host.dispatch(frame.call, frame.payload);
      sendFrame(ws, { id, ...envelope });
    });
    ws.on('close', () => {
      unsubscribe();
      sockets.delete(ws);
    });
    ws.on('error', () => ws.terminate());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, bindAddress, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = isLoopback(bindAddress)
    ? '127.0.0.1'
    : bindAddress.includes(':')
      ? `[${bindAddress}]`
      : bindAddress;

  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    async close() {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
