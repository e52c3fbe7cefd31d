// Your own pictures through the REAL host and trainer process: a folder of colour pictures uploaded as the
// browser sends a picked folder (pics/<label>/<file>) is labelled by its sub-folders; discarded and
// stale uploads leave the workspace; a dataset preview shows every label; the Gallery's latent map
// carries the stored label names; a finished run keeps its speed, previews, name and note for a
// host started again on the same workspace (a reload, a restart).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import type { CallRes, DatasetManifest, EventName, RunStatusPayload, RunSummary } from '../../src-main/contract';
import { createTestSupervisor } from '../helpers/trainer';

let host: Host;
let workspace: string;
const events: Array<[EventName, unknown]> = [];

/** A real colour picture: a gradient tinted per label with a shape at a varying spot. */
async function picture(label: number, i: number): Promise<Buffer> {
  const W = 40;
  const px = Buffer.alloc(W * W * 3);
  const tint = [
    [220, 60, 40],
    [40, 160, 220],
    [90, 200, 80],
  ][label];
  for (let y = 0; y < W; y++)
    for (let x = 0; x < W; x++) {
      const inside = Math.hypot(x - 12 - (i % 7) * 2, y - 14 - (i % 5) * 2) < 8;
      for (let c = 0; c < 3; c++)
        px[(y * W + x) * 3 + c] = inside ? 255 - tint[c] : Math.round((tint[c] * (x + y)) / (2 * W));
    }
  return sharp(px, { raw: { width: W, height: W, channels: 3 } })
    .png()
    .toBuffer();
}

const call = async <T>(name: string, payload: unknown): Promise<T> => {
  const r = await host.dispatch(name, payload);
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.result as T;
};

/** Uploads files as serve mode does: relative paths as the browser gives them for a picked folder. */
async function upload(files: Array<[string, Buffer]>): Promise<string> {
  const { uploadId } = await call<{ uploadId: string }>('datasets:uploadBegin', {});
  for (const [rel, bytes] of files)
    await call('datasets:uploadChunk', { uploadId, path: rel, data: bytes.toString('base64'), append: false });
  return uploadId;
}

const waitFor = <T>(find: () => T | undefined, what: string, timeoutMs = 90_000) =>
  new Promise<T>((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const v = find();
      if (v !== undefined) return resolve(v);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });

const files: Array<[string, Buffer]> = [];
beforeAll(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-own-'));
  // an upload of an earlier session, never imported: removed when the host opens the workspace
  fs.mkdirSync(path.join(workspace, 'uploads', 'up-00000000000000aa', 'pics'), { recursive: true });
  fs.writeFileSync(path.join(workspace, 'uploads', 'up-00000000000000aa', 'pics', 'x.png'), 'x');
  host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: workspace });
  host.subscribe((name, payload) => events.push([name, payload]));
  const names = ['apps', 'files', 'folders'];
  for (let l = 0; l < 3; l++)
    for (let i = 0; i < 20; i++) files.push([`pics/${names[l]}/${names[l]}-${i}.png`, await picture(l, i)]);
  files.push(['pics/files/broken.png', (await picture(1, 0)).subarray(0, 120)]);
});
afterAll(async () => host?.dispose());

describe('your own pictures through the host', () => {
  let manifest: DatasetManifest;

  it('labels a picked folder by its sub-folders, removes stale and discarded uploads, and says why a file was skipped in plain words', async () => {
    expect(fs.readdirSync(path.join(workspace, 'uploads'))).toEqual([]);
    // discarded: its files leave the workspace
    const discarded = await upload(files.slice(0, 3));
    expect(fs.existsSync(path.join(workspace, 'uploads', discarded, 'pics', 'apps'))).toBe(true);
    expect(await call('datasets:uploadDiscard', { uploadId: discarded })).toEqual({ discarded: true });
    expect(fs.existsSync(path.join(workspace, 'uploads', discarded))).toBe(false);

    const uploadId = await upload(files);
    const preview = await call<CallRes<'datasets:previewImport'>>('datasets:previewImport', {
      source: { uploadId },
      options: { size: 32, mode: 'rgb' },
      count: 6,
    });
    expect(new Set(preview.labels)).toEqual(new Set(['apps', 'files', 'folders'])); // every label, not the picked folder's name
    const { jobId } = await call<{ jobId: string }>('datasets:import', {
      source: { uploadId },
      name: 'Icons',
      options: { size: 32, mode: 'rgb' },
    });
    const done = await waitFor(
      () =>
        events.find(([n, p]) => n === 'datasets:importDone' && (p as { jobId: string }).jobId === jobId)?.[1] as
          | { status: string; manifest: DatasetManifest; report: { skipped: Array<{ file: string; reason: string }> } }
          | undefined,
      'the import',
    );
    expect(done.status).toBe('done');
    manifest = done.manifest;
    expect(manifest.labelNames).toEqual(['apps', 'files', 'folders']);
    expect(manifest.labelCounts).toEqual([20, 20, 20]);
    expect(manifest.shape).toEqual([32, 32, 3]);
    expect(done.report.skipped).toHaveLength(1);
    expect(done.report.skipped[0].file).toBe(path.join('files', 'broken.png'));
    expect(done.report.skipped[0].reason).toMatch(/^corrupt or truncated image \(/);
    expect(done.report.skipped[0].reason).not.toMatch(/vips|libpng|TF_Status/i);
    await waitFor(
      () => (fs.readdirSync(path.join(workspace, 'uploads')).length === 0 ? true : undefined),
      'the upload folder to be removed',
      10_000,
    );
  });

  it('previews a few images of every label', async () => {
    const p = await call<CallRes<'datasets:preview'>>('datasets:preview', { id: manifest.id, count: 6 });
    expect(p.labels).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Buffer.from(p.images[0], 'base64').length).toBe(32 * 32 * 3);

    // the Noise view's preview with augmentation: the images as a training batch would see them
    const plain = await call<CallRes<'noise:preview'>>('noise:preview', {
      dataset: { id: manifest.id },
      noise: { type: 'none', level: 0 },
      count: 6,
      seed: 3,
    });
    const augmented = await call<CallRes<'noise:preview'>>('noise:preview', {
      dataset: { id: manifest.id },
      noise: { type: 'none', level: 0 },
      count: 6,
      seed: 3,
      augment: { flip: true, shift: 0.2, rotate: 20, brightness: 0.3 },
    });
    expect(augmented.shape).toEqual([32, 32, 3]);
    expect(augmented.clean.filter((img, i) => img !== plain.clean[i]).length).toBeGreaterThanOrEqual(5);
    expect(
      await host.dispatch('noise:preview', {
        dataset: { id: manifest.id },
        noise: { type: 'none', level: 0 },
        augment: { flip: true, shift: 0.9, rotate: 0, brightness: 0 },
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });

  let runId: string;
  it('trains on it and shows the stored label names on the latent map', async () => {
    ({ runId } = await call<{ runId: string }>('runs:start', {
      config: {
        kind: 'dense',
        inputShape: [32, 32, 3],
        latentDim: 8,
        hidden: [],
        epochs: 10,
        batchSize: 16,
        previewEvery: 2,
        validationSplit: 0.5,
      },
      dataset: { id: manifest.id },
      name: 'Icons, 8-d code',
    }));
    await waitFor(
      () =>
        events.find(
          ([n, p]) =>
            n === 'runs:status' &&
            (p as RunStatusPayload).runId === runId &&
            (p as RunStatusPayload).status === 'completed',
        ),
      'the run to complete',
    );
    const latent = await call<CallRes<'gallery:latent'>>('gallery:latent', { runId, max: 100 });
    expect(latent.labelNames).toEqual(['apps', 'files', 'folders']);
    expect(new Set(latent.labels.map((l) => latent.labelNames[l]))).toEqual(new Set(['apps', 'files', 'folders']));
    const renamed = await call<RunSummary>('runs:update', { runId, name: 'Icons, small code', note: 'first try' });
    expect(renamed).toMatchObject({ name: 'Icons, small code', note: 'first try' });
    expect(await host.dispatch('runs:update', { runId, name: '   ' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });

  it('tries new pictures on the trained run: reconstruction, code, error and how unusual it is', async () => {
    // a picture unlike any of the training set: plain white (the set is dark gradients)
    const foreign = await sharp({
      create: { width: 40, height: 40, channels: 3, background: { r: 255, g: 255, b: 255 } },
    })
      .jpeg()
      .toBuffer();
    const r = await call<CallRes<'gallery:try'>>('gallery:try', {
      runId,
      files: [
        { name: 'like-apps.png', data: (await picture(0, 3)).toString('base64') },
        { name: 'white.jpg', data: foreign.toString('base64') },
        { name: 'broken.png', data: (await picture(0, 3)).subarray(0, 100).toString('base64') },
      ],
    });
    expect(r.shape).toEqual([32, 32, 3]);
    const [like, odd, broken] = r.results;
    expect(Buffer.from(like.original!, 'base64').length).toBe(32 * 32 * 3);
    expect(Buffer.from(like.reconstruction!, 'base64').length).toBe(32 * 32 * 3);
    expect(like.code).toHaveLength(8);
    expect(like.mse).toBeGreaterThan(0);
    expect(odd.mse).toBeGreaterThan(like.mse!);
    expect(odd.unusual).toBeGreaterThan(like.unusual!);
    expect(odd.unusual).toBeGreaterThanOrEqual(0.9);
    expect(broken.error).toMatch(/corrupt or truncated image/);
    expect(
      await host.dispatch('gallery:try', { runId: 'run-nope', files: [{ name: 'a.png', data: 'AAAA' }] }),
    ).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('a host opened again on the workspace (a reload, a restart) serves the run with its speed, preview, name and note', async () => {
    await host.dispose();
    host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: workspace });
    host.subscribe((name, payload) => events.push([name, payload]));
    const [run] = await call<RunSummary[]>('runs:list', {});
    expect(run).toMatchObject({
      runId,
      status: 'completed',
      epochsDone: 10,
      name: 'Icons, small code',
      note: 'first try',
    });
    expect(run.samplesPerSec).toBeGreaterThan(0);
    expect(run.elapsedSec).toBeGreaterThan(0);
    const preview = await call<CallRes<'runs:preview'>>('runs:preview', { runId });
    expect(preview).toMatchObject({ type: 'preview', epoch: 10, width: 32, height: 32, channels: 3 });
    expect(Buffer.from(preview!.reconstructions[0], 'base64').length).toBe(32 * 32 * 3);
    expect(await host.dispatch('runs:preview', { runId: 'run-nope' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    // a damaged preview.json is parsed with its schema: no preview, not a malformed answer
    const file = path.join(workspace, 'runs', runId, 'preview.json');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(good), originals: [1, 2] }));
    await host.dispose();
    host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: workspace });
    host.subscribe((name, payload) => events.push([name, payload]));
    expect(await host.dispatch('runs:preview', { runId })).toEqual({ ok: true, result: null });
    fs.writeFileSync(file, good);
  });
  it('pages through a dataset by label, removes bad images and adds more to it', async () => {
    const files1 = await call<CallRes<'datasets:page'>>('datasets:page', {
      id: manifest.id,
      label: 1,
      offset: 5,
      limit: 10,
    });
    expect(files1.total).toBe(20);
    expect(files1.labels).toEqual(new Array(10).fill(1));
    expect(files1.indices).toHaveLength(10);
    expect(Buffer.from(files1.images[0], 'base64').length).toBe(32 * 32 * 3);
    const all = await call<CallRes<'datasets:page'>>('datasets:page', { id: manifest.id, offset: 55, limit: 10 });
    expect(all.total).toBe(60);
    expect(all.indices).toEqual([55, 56, 57, 58, 59]);

    const gone = files1.indices.slice(0, 2);
    const keptNext = (
      await call<CallRes<'datasets:page'>>('datasets:page', { id: manifest.id, offset: gone[1] + 1, limit: 1 })
    ).images[0];
    const after = await call<DatasetManifest>('datasets:removeImages', { id: manifest.id, indices: gone });
    expect(after.count).toBe(58);
    expect(after.labelCounts).toEqual([20, 18, 20]);
    // the image after the removed ones moved up by two
    expect(
      (await call<CallRes<'datasets:page'>>('datasets:page', { id: manifest.id, offset: gone[1] - 1, limit: 1 }))
        .images[0],
    ).toBe(keptNext);
    expect(await host.dispatch('datasets:removeImages', { id: manifest.id, indices: [100_000] })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload', message: expect.stringMatching(/None of those images/) },
    });

    // more images, one of them a new label, converted as the dataset's own (32×32 RGB)
    const uploadId = await upload([
      ['more/apps/x.png', await picture(0, 21)],
      ['more/icons/y.png', await picture(2, 22)],
    ]);
    const { jobId } = await call<{ jobId: string }>('datasets:import', {
      source: { uploadId },
      name: 'unused',
      options: { size: 8, mode: 'grayscale' },
      into: manifest.id,
    });
    const done = await waitFor(
      () =>
        events.find(([n, p]) => n === 'datasets:importDone' && (p as { jobId: string }).jobId === jobId)?.[1] as
          { status: string; manifest: DatasetManifest } | undefined,
      'the import into the dataset',
    );
    expect(done.status).toBe('done');
    expect(done.manifest).toMatchObject({
      id: manifest.id,
      count: 60,
      shape: [32, 32, 3],
      labelNames: ['apps', 'files', 'folders', 'icons'],
      labelCounts: [21, 18, 20, 1],
    });
    const last = await call<CallRes<'datasets:page'>>('datasets:page', {
      id: manifest.id,
      label: 3,
      offset: 0,
      limit: 5,
    });
    expect(last.indices).toEqual([59]);
  });
});
