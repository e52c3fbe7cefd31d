// The workspace and export through the real host, the real trainer process and the real serve
// server: flagged items left untouched, settings that persist, opening another
// workspace, exports of a trained run in every format (listed, downloaded over HTTP, a folder as a
// zip), a TensorFlow.js export imported back as a run that the Gallery shows and Resume trains.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import type { Envelope, EventName, ExportRecord, RunStatusPayload, WorkspaceInfo } from '../../src-main/contract';
import { startServeServer, type ServeHandle } from '../../src-main/serve/server';
import { createTestSupervisor, repoRoot } from '../helpers/trainer';

let host: Host;
let ws: string;
let other: string;
let events: Array<[EventName, unknown]>;

const ok = <T>(env: Envelope): T => {
  expect(env.ok, JSON.stringify(env)).toBe(true);
  return (env as { ok: true; result: T }).result;
};
const fail = (env: Envelope) => {
  expect(env.ok, JSON.stringify(env)).toBe(false);
  return (env as { ok: false; error: { code: string; message: string } }).error;
};
const call = <T>(name: string, payload: unknown = {}) => host.dispatch(name, payload).then((e) => ok<T>(e));

function waitStatus(runId: string, status: RunStatusPayload['status'], timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (
        events.some(
          ([n, p]) =>
            n === 'runs:status' && (p as RunStatusPayload).runId === runId && (p as RunStatusPayload).status === status,
        )
      )
        return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`run ${runId} never became ${status}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

// A damaged workspace: a run folder with broken run.json, a dataset with a broken manifest, an
// unknown file, a broken settings.json. Their bytes must survive opening it.
const damaged: Record<string, string> = {
  'runs/run-20260101-000000-beef/run.json': '{"runId": "run-2026',
  'datasets/broken/manifest.json': 'not json at all',
  'notes.txt': 'my own notes',
  'settings.json': '{"theme": "dark", "maxConcurrentRuns": 99}',
};

beforeAll(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-ws-'));
  other = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-ws2-'));
  for (const [rel, text] of Object.entries(damaged)) {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), text);
  }
  host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: ws });
  events = [];
  host.subscribe((name, payload) => events.push([name, payload]));
});
afterAll(async () => {
  await host.dispose();
});

describe('workspace', () => {
  it('opens a damaged workspace with each bad item flagged and left byte-for-byte untouched', async () => {
    const info = await call<WorkspaceInfo>('workspace:info');
    expect(info.path).toBe(ws);
    expect(info.schemaVersion).toBe(1);
    const items = info.flagged.map((f) => f.item).sort();
    expect(items).toEqual(['datasets/broken', 'notes.txt', 'runs/run-20260101-000000-beef', 'settings.json']);
    expect(info.flagged.find((f) => f.item === 'settings.json')?.message).toMatch(/maxConcurrentRuns/);
    // the valid setting is kept, the invalid one defaulted
    expect(info.settings).toEqual({ theme: 'dark', maxConcurrentRuns: 2 });
    for (const [rel, text] of Object.entries(damaged)) expect(fs.readFileSync(path.join(ws, rel), 'utf8')).toBe(text);
    expect(JSON.parse(fs.readFileSync(path.join(ws, 'workspace.json'), 'utf8')).schemaVersion).toBe(1);
  });

  it('saves settings atomically, keeps the damaged file aside, and refuses invalid values', async () => {
    const settings = await call('settings:set', { maxConcurrentRuns: 1 });
    expect(settings).toEqual({ theme: 'dark', maxConcurrentRuns: 1 });
    expect(JSON.parse(fs.readFileSync(path.join(ws, 'settings.json'), 'utf8'))).toEqual({
      theme: 'dark',
      maxConcurrentRuns: 1,
    });
    expect(fs.readFileSync(path.join(ws, 'settings.json.damaged'), 'utf8')).toBe(damaged['settings.json']);
    const info = await call<WorkspaceInfo>('workspace:info');
    expect(info.flagged.map((f) => f.item)).not.toContain('settings.json');
    expect(fail(await host.dispatch('settings:set', { theme: 'neon' })).code).toBe('invalid_payload');
    expect(fail(await host.dispatch('settings:set', { maxConcurrentRuns: 1, evil: true })).code).toBe(
      'invalid_payload',
    );
    await call('settings:set', { maxConcurrentRuns: 2 });
  });

  it('a workspace.json it cannot read is set aside and flagged; one from a newer studio is flagged and not rewritten', async () => {
    const a = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-ws-bad-'));
    fs.writeFileSync(path.join(a, 'workspace.json'), '{{{');
    const b = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-ws-new-'));
    fs.writeFileSync(path.join(b, 'workspace.json'), JSON.stringify({ schemaVersion: 7 }));
    const ia = ok<{ info: WorkspaceInfo }>(await host.dispatch('workspace:open', { path: a })).info;
    expect(ia.flagged[0]).toMatchObject({ item: 'workspace.json' });
    expect(fs.readFileSync(path.join(a, 'workspace.json.damaged'), 'utf8')).toBe('{{{');
    const ib = ok<{ info: WorkspaceInfo }>(await host.dispatch('workspace:open', { path: b })).info;
    expect(ib.flagged[0].message).toMatch(/newer Autoencoder Studio/);
    expect(fs.readFileSync(path.join(b, 'workspace.json'), 'utf8')).toBe(JSON.stringify({ schemaVersion: 7 }));
    // no dialog in serve mode, a relative or NUL path is refused by the schema
    expect(fail(await host.dispatch('workspace:open', {})).message).toMatch(/absolute path/);
    expect(fail(await host.dispatch('workspace:open', { path: 'relative/ws' })).code).toBe('invalid_payload');
    expect(fail(await host.dispatch('workspace:open', { path: '/tmp/a\0b' })).code).toBe('invalid_payload');
    const file = path.join(a, 'a-file');
    fs.writeFileSync(file, 'x');
    expect(fail(await host.dispatch('workspace:open', { path: file })).message).toMatch(/is a file/);
    ok(await host.dispatch('workspace:open', { path: ws }));
    expect(host.workspaceDir()).toBe(ws);
  });
});

describe('export and import through the host', () => {
  let runId: string;
  let server: ServeHandle;
  const records: Record<string, ExportRecord> = {};

  beforeAll(async () => {
    // a small conv autoencoder, 1 epoch on 600 digits
    const cfg = {
      kind: 'conv',
      inputShape: [28, 28, 1],
      latentDim: 8,
      hidden: [8, 16],
      epochs: 1,
      batchSize: 64,
      previewEvery: 1000,
    };
    runId = ok<{ runId: string }>(
      await host.dispatch('runs:start', { config: cfg, dataset: { builtin: 'mnist', count: 600 } }),
    ).runId;
    await waitStatus(runId, 'completed');
    server = await startServeServer({
      host,
      staticDir: path.join(repoRoot, 'dist-renderer'),
      port: 0,
      bindAddress: '127.0.0.1',
      token: 't'.repeat(32),
    });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  it('refuses to open another workspace while a run trains, and switches cleanly when idle', async () => {
    const slow = {
      kind: 'dense',
      inputShape: [28, 28, 1],
      latentDim: 16,
      epochs: 50,
      batchSize: 32,
      previewEvery: 1000,
    };
    const busyId = ok<{ runId: string }>(
      await host.dispatch('runs:start', { config: slow, dataset: { builtin: 'mnist', count: 2000 } }),
    ).runId;
    expect(fail(await host.dispatch('workspace:open', { path: other })).message).toMatch(/training in this workspace/);
    await call('runs:stop', { runId: busyId });
    await waitStatus(busyId, 'stopped');
    const opened = ok<{ info: WorkspaceInfo }>(await host.dispatch('workspace:open', { path: other })).info;
    expect(opened.path).toBe(other);
    expect(events.some(([n, p]) => n === 'workspace:changed' && (p as WorkspaceInfo).path === other)).toBe(true);
    expect(await call<unknown[]>('runs:list')).toEqual([]);
    ok(await host.dispatch('workspace:open', { path: ws }));
    const ids = (await call<Array<{ runId: string }>>('runs:list')).map((r) => r.runId);
    expect(ids).toContain(runId);
    expect(ids).toContain(busyId);
  }, 120_000);

  it('exports the model in every format and part, latents as CSV and a gallery as PNG, each listed and complete', async () => {
    for (const format of ['tfjs', 'keras', 'onnx'] as const) {
      for (const part of ['encoder', 'decoder', 'full'] as const) {
        const rec = ok<ExportRecord>(await host.dispatch('export:model', { runId, format, part }));
        expect(rec).toMatchObject({ runId, kind: 'model', format, part });
        expect(rec.bytes).toBeGreaterThan(1000);
        const target = path.join(ws, 'exports', rec.exportId, rec.fileName);
        if (format === 'tfjs') {
          expect(fs.existsSync(path.join(target, 'model.json'))).toBe(true);
          expect(fs.existsSync(path.join(target, 'studio.json'))).toBe(true);
        } else expect(fs.statSync(target).size).toBe(rec.bytes);
        records[`${format}-${part}`] = rec;
      }
    }
    const csv = ok<ExportRecord>(await host.dispatch('export:latents', { runId }));
    const lines = fs
      .readFileSync(path.join(ws, 'exports', csv.exportId, csv.fileName), 'utf8')
      .trim()
      .split('\n');
    expect(lines[0].split(',')).toHaveLength(1 + 8); // label + 8 code dimensions
    expect(lines.length - 1).toBe(600);
    records.csv = csv;
    const png = ok<ExportRecord>(await host.dispatch('export:gallery', { runId, view: 'triplets', count: 6 }));
    const bytes = fs.readFileSync(path.join(ws, 'exports', png.exportId, png.fileName));
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    // 3 rows (original / noisy / reconstruction) of 6 digits
    expect(bytes.readUInt32BE(16) / bytes.readUInt32BE(20)).toBeCloseTo(6 / 3, 1);
    records.png = png;

    const list = await call<ExportRecord[]>('export:list', { runId });
    expect(list.map((e) => e.exportId).sort()).toEqual(
      Object.values(records)
        .map((r) => r.exportId)
        .sort(),
    );
    // no temporary leftovers next to the exports
    for (const rec of list)
      expect(fs.readdirSync(path.join(ws, 'exports', rec.exportId)).sort()).toEqual(
        ['export.json', rec.fileName].sort(),
      );
    const info = await call<WorkspaceInfo>('workspace:info');
    expect(info.exports).toBe(list.length);
  }, 240_000);

  it('the "runs training at once" setting drives the queue', async () => {
    await call('settings:set', { maxConcurrentRuns: 1 });
    const cfg = { kind: 'dense', inputShape: [28, 28, 1], latentDim: 8, epochs: 1, batchSize: 100, previewEvery: 1000 };
    const a = ok<{ runId: string }>(
      await host.dispatch('runs:start', { config: cfg, dataset: { builtin: 'mnist', count: 500 } }),
    ).runId;
    const b = ok<{ runId: string }>(
      await host.dispatch('runs:start', { config: cfg, dataset: { builtin: 'mnist', count: 500 } }),
    ).runId;
    const statusOf = async (id: string) =>
      (await call<Array<{ runId: string; status: string; message?: string }>>('runs:list')).find((r) => r.runId === id);
    expect(await statusOf(b)).toMatchObject({
      status: 'queued',
      message: expect.stringMatching(/one run trains at once/),
    });
    await waitStatus(a, 'completed');
    await waitStatus(b, 'completed');
    await call('settings:set', { maxConcurrentRuns: 2 });
  }, 120_000);

  it('a failed export leaves nothing behind and says why; unknown runs and runs without a model are refused', async () => {
    const before = fs.readdirSync(path.join(ws, 'exports')).length;
    const err = fail(await host.dispatch('export:latents', { runId, dataset: { id: 'no-such-dataset' } }));
    expect(err.message).toMatch(/no-such-dataset/);
    expect(fs.readdirSync(path.join(ws, 'exports')).length).toBe(before);
    expect(
      fail(await host.dispatch('export:model', { runId: 'run-nope', format: 'onnx', part: 'full' })).message,
    ).toMatch(/no run 'run-nope'/);
    expect(fail(await host.dispatch('export:model', { runId, format: 'pdf', part: 'full' })).code).toBe(
      'invalid_payload',
    );
    expect(fail(await host.dispatch('export:saveAs', { exportId: records.csv.exportId })).message).toMatch(
      /download link/,
    );
  });

  it('downloads exports over serve mode with the token: a file as is, a TensorFlow.js folder as a zip; without the token nothing', async () => {
    const get = (p: string, cookie = true) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const req = http.get(
          `${server.url.split('?')[0].replace(/\/$/, '')}${p}`,
          { headers: cookie ? { Cookie: `ae_token=${'t'.repeat(32)}` } : {} },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on('error', reject);
      });
    const onnx = records['onnx-full'];
    const r = await get(onnx.download);
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toContain(onnx.fileName);
    expect(r.body.equals(fs.readFileSync(path.join(ws, 'exports', onnx.exportId, onnx.fileName)))).toBe(true);
    expect((await get(onnx.download, false)).status).toBe(401);
    expect((await get('/exports/exp-nothing-here')).status).toBe(404);
    expect((await get('/exports/..%2f..%2fetc%2fpasswd')).status).not.toBe(200);

    const tfjs = records['tfjs-full'];
    const z = await get(tfjs.download);
    expect(z.status).toBe(200);
    const names = await new Promise<string[]>((resolve, reject) =>
      yauzl.fromBuffer(z.body, { lazyEntries: true }, (err, zip) => {
        if (err || !zip) return reject(err);
        const out: string[] = [];
        zip.on('entry', (e: yauzl.Entry) => {
          out.push(e.fileName);
          zip.readEntry();
        });
        zip.on('end', () => resolve(out));
        zip.readEntry();
      }),
    );
    expect(names.sort()).toEqual(tfjs.files.map((f) => f.split(path.sep).join('/')).sort());
  });

  it("with native dialogs (the desktop app passes Electron's): Save as copies an export whole, Open workspace and Import use the picked folder", async () => {
    const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-saveas-'));
    const picks: string[] = [];
    const desktop = createHost({
      mode: 'electron',
      version: 'test',
      trainer: createTestSupervisor(),
      workspaceDir: ws,
      dialogs: {
        pickDirectory: async (title) => (picks.push(title), title.includes('workspace') ? other : undefined),
        pickSavePath: async (name) => path.join(dest, name),
      },
    });
    try {
      for (const key of ['tfjs-full', 'keras-decoder']) {
        const rec = records[key];
        const saved = ok<{ savedTo: string }>(
          await desktop.dispatch('export:saveAs', { exportId: rec.exportId }),
        ).savedTo;
        expect(saved).toBe(path.join(dest, rec.fileName));
        const src = path.join(ws, 'exports', rec.exportId, rec.fileName);
        if (key.startsWith('tfjs'))
          for (const f of fs.readdirSync(src))
            expect(fs.readFileSync(path.join(saved, f)).equals(fs.readFileSync(path.join(src, f)))).toBe(true);
        else expect(fs.readFileSync(saved).equals(fs.readFileSync(src))).toBe(true);
      }
      expect(fs.readdirSync(dest).filter((n) => n.includes('.tmp-'))).toEqual([]);
      expect(fail(await desktop.dispatch('export:saveAs', { exportId: 'exp-missing' })).message).toMatch(/no export/);
      // the import dialog was cancelled: nothing happens
      expect(ok<{ cancelled: boolean }>(await desktop.dispatch('models:import', {})).cancelled).toBe(true);
      const opened = ok<{ cancelled: boolean; info: WorkspaceInfo }>(await desktop.dispatch('workspace:open', {}));
      expect(opened).toMatchObject({ cancelled: false, info: { path: other, nativeDialogs: true } });
      expect(desktop.workspaceDir()).toBe(other);
      expect(picks).toHaveLength(2);
    } finally {
      await desktop.dispose();
    }
  }, 60_000);

  it('imports a TensorFlow.js export back as a run: the Gallery shows it and Resume trains it further', async () => {
    const tfjs = records['tfjs-full'];
    const src = path.join(ws, 'exports', tfjs.exportId, tfjs.fileName);
    const { runId: imported } = ok<{ runId: string }>(await host.dispatch('models:import', { path: src }));
    expect(imported).toMatch(/^imported-/);
    const run = (await call<Array<{ runId: string; status: string; config: { kind: string } }>>('runs:list')).find(
      (r) => r.runId === imported,
    );
    expect(run).toMatchObject({ status: 'stopped', config: { kind: 'conv' } });
    const triplets = await call<{ mse: number[] }>('gallery:triplets', { runId: imported, count: 4 });
    expect(triplets.mse).toHaveLength(4);
    // same weights: the codes of the same digits are identical
    const codes = async (id: string) => {
      const rec = ok<ExportRecord>(
        await host.dispatch('export:latents', { runId: id, dataset: { builtin: 'mnist', count: 600 } }),
      );
      return fs.readFileSync(path.join(ws, 'exports', rec.exportId, rec.fileName), 'utf8');
    };
    expect(await codes(imported)).toBe(await codes(runId));
    await call('runs:resume', { runId: imported });
    await waitStatus(imported, 'completed');
    const after = (await call<Array<{ runId: string; epochsDone: number }>>('runs:list')).find(
      (r) => r.runId === imported,
    );
    expect(after?.epochsDone).toBe(1);
    // an encoder-only export or a folder without model.json is refused with the reason
    const enc = records['tfjs-encoder'];
    expect(
      fail(await host.dispatch('models:import', { path: path.join(ws, 'exports', enc.exportId, enc.fileName) }))
        .message,
    ).toMatch(/only the encoder/);
    expect(fail(await host.dispatch('models:import', { path: os.tmpdir() })).message).toMatch(/model\.json/);
  }, 180_000);
});
