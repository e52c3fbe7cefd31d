// Serve mode's download of an export (serve/downloads.ts) over a real HTTP server: a file streams as
// is with its type, length and an attachment name; HEAD sends the headers only; a folder (a
// TensorFlow.js export) comes as a zip holding every file under the folder's name; an unknown id, a
// damaged record or a record whose files are gone is no download (the server answers 404).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendExport } from '../../../../src-main/serve/downloads';
import type { ExportRecord } from '../../../../src-main/contract';

let ws: string;
let server: http.Server;
let base: string;
const record = (exportId: string, fileName: string, files: string[]): ExportRecord => ({
  exportId,
  runId: 'run-1',
  kind: 'model',
  format: 'tfjs',
  part: 'full',
  fileName,
  bytes: 1,
  files,
  createdAt: 1,
  download: `/exports/${exportId}`,
});
const put = (file: string, data: string | Buffer) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
};

beforeAll(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-downloads-'));
  const csv = path.join(ws, 'exports', 'exp-csv');
  put(path.join(csv, 'run 1 codes.csv'), 'label,z0\n3,0.5\n');
  put(
    path.join(csv, 'export.json'),
    JSON.stringify({
      ...record('exp-csv', 'run 1 codes.csv', ['run 1 codes.csv']),
      kind: 'latents',
      format: 'csv',
      part: undefined,
    }),
  );
  const tfjs = path.join(ws, 'exports', 'exp-tfjs');
  put(path.join(tfjs, 'ae-tfjs', 'model.json'), '{"format":"layers-model"}');
  put(path.join(tfjs, 'ae-tfjs', 'weights', 'group1.bin'), Buffer.from([1, 2, 3, 4]));
  put(
    path.join(tfjs, 'export.json'),
    JSON.stringify(record('exp-tfjs', 'ae-tfjs', ['ae-tfjs/model.json', 'ae-tfjs/weights/group1.bin'])),
  );
  put(path.join(ws, 'exports', 'exp-damaged', 'export.json'), '{');
  put(
    path.join(ws, 'exports', 'exp-gone', 'export.json'),
    JSON.stringify(record('exp-gone', 'gone.onnx', ['gone.onnx'])),
  );
  server = http.createServer((req, res) => {
    const id = decodeURIComponent((req.url ?? '').replace(/^\/exports\//, ''));
    if (!sendExport(ws, id, req, res, { 'X-Test': '1' })) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/exports/`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(ws, { recursive: true, force: true });
});

function get(id: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + encodeURIComponent(id), { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('downloading an export', () => {
  it('streams a file as is, with its type, length and name; HEAD sends only the headers', async () => {
    const r = await get('exp-csv');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('label,z0\n3,0.5\n');
    expect(r.headers).toMatchObject({
      'content-type': 'text/csv; charset=utf-8',
      'content-length': '15',
      'x-test': '1',
    });
    expect(r.headers['content-disposition']).toBe(
      `attachment; filename="run_1_codes.csv"; filename*=UTF-8''run%201%20codes.csv`,
    );
    const head = await get('exp-csv', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('15');
    expect(head.body).toHaveLength(0);
  });

  it("sends a folder as a zip of every file under the folder's name", async () => {
    const r = await get('exp-tfjs');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-disposition']).toMatch(/filename="ae-tfjs\.zip"/);
    const files = unzipSync(new Uint8Array(r.body));
    expect(Object.keys(files).sort()).toEqual(['ae-tfjs/model.json', 'ae-tfjs/weights/group1.bin']);
    expect(Buffer.from(files['ae-tfjs/model.json']).toString()).toBe('{"format":"layers-model"}');
    expect([...files['ae-tfjs/weights/group1.bin']]).toEqual([1, 2, 3, 4]);
  });

  it('is no download for an unknown id, a damaged record, files that are gone, or a path', async () => {
    for (const id of ['exp-nothing', 'exp-damaged', 'exp-gone', '../exports/exp-csv', 'exp-csv/../../x'])
      expect((await get(id)).status, id).toBe(404);
  });
});
