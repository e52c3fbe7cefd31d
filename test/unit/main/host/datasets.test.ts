// host/datasets.ts (`datasets:*`) on a real workspace, through createHost and the REAL trainer where
// a call needs it: the store's calls (list, preview, page, rename, remove images, delete) with
// plain-words errors, the serve-mode upload (chunks kept inside the upload folder, size limits,
// discard; an earlier session's uploads removed), an import of an upload in the trainer (the upload
// consumed), a dataset a run trains on left alone. And where an upload's labels start: a picked
// folder is the root, so its sub-folders are the labels; several dropped folders are labelled by
// their own names.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { uploadRoot } from '../../../../src-main/host/datasets';
import { importPaths } from '../../../../src-main/datasets/import';
import sharp from 'sharp';
import type { EventPayload } from '../../../../src-main/contract';
import { cornersDataset, hostInTemp, tinyConfig, waitForRun, type TestHost } from './helpers';

const png = () =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 40, b: 40 } } })
    .png()
    .toBuffer();

async function upload(files: string[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-up-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), await png());
  }
  return dir;
}
const labelsOf = async (dir: string) =>
  (await importPaths([uploadRoot(dir)], { size: 8, mode: 'rgb', fit: 'stretch' })).report.labelCounts;

describe('uploadRoot', () => {
  it('a picked folder: its sub-folders are the labels, not its own name', async () => {
    expect(await labelsOf(await upload(['pics/cats/1.png', 'pics/cats/2.png', 'pics/dogs/3.png']))).toEqual({
      cats: 2,
      dogs: 1,
    });
  });
  it('several dropped folders: their names are the labels; loose files have none', async () => {
    expect(await labelsOf(await upload(['cats/1.png', 'dogs/2.png', 'dogs/3.png']))).toEqual({ cats: 1, dogs: 2 });
    expect(await labelsOf(await upload(['1.png', '2.png']))).toEqual({ '': 2 });
  });
});

let t: TestHost | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});
const b64 = (b: Buffer | Uint8Array) => Buffer.from(b).toString('base64');

describe('the stored datasets', () => {
  it('lists, previews, pages, renames, removes images from and deletes a dataset; a missing one is not_found in plain words', async () => {
    t = hostInTemp();
    expect(await t.ok('datasets:list', {})).toEqual([]);
    const id = await cornersDataset(t.ws);
    expect(await t.ok('datasets:list', {})).toMatchObject([{ id, name: 'Corners', count: 100, shape: [12, 12, 1] }]);

    const p = await t.ok('datasets:preview', { id, count: 8 });
    expect(p.manifest.labelNames).toEqual(['top left', 'top right', 'bottom left', 'bottom right']);
    expect(p.images.length).toBeGreaterThan(0);
    expect(Buffer.from(p.images[0], 'base64')).toHaveLength(144);
    expect(Buffer.from(p.mean, 'base64')).toHaveLength(144);

    const page = await t.ok('datasets:page', { id, label: 3, offset: 0, limit: 10 });
    expect(page.total).toBe(25);
    expect(page.indices.slice(0, 3)).toEqual([3, 7, 11]);
    expect(page.labels.every((l) => l === 3)).toBe(true);

    expect((await t.ok('datasets:rename', { id, name: 'Four corners' })).name).toBe('Four corners');
    expect((await t.ok('datasets:removeImages', { id, indices: [0, 1, 2] })).count).toBe(97);
    expect((await t.ok('datasets:list', {}))[0]).toMatchObject({ id, name: 'Four corners', count: 97 });

    await t.ok('datasets:delete', { id });
    expect(fs.existsSync(path.join(t.ws, 'datasets', id))).toBe(false);
    for (const [name, payload] of [
      ['datasets:preview', { id }],
      ['datasets:rename', { id, name: 'x' }],
      ['datasets:delete', { id }],
    ] as const) {
      const e = await t.refused(name, payload);
      expect(e.code, name).toBe('not_found');
      expect(e.message, name).toMatch(new RegExp(id));
    }
  });

  it('leaves a dataset a run trains on alone: no images removed, nothing imported into it', async () => {
    t = hostInTemp();
    const id = await cornersDataset(t.ws);
    const { runId } = await t.ok('runs:start', { config: { ...tinyConfig, epochs: 500 }, dataset: { id } });
    const inUse = 'A run is training on this dataset; change it when the run has finished or is stopped.';
    expect(await t.refused('datasets:removeImages', { id, indices: [0] })).toEqual({
      code: 'conflict',
      message: inUse,
    });
    expect(await t.refused('datasets:import', { source: { paths: [t.ws] }, name: 'more', into: id })).toEqual({
      code: 'conflict',
      message: inUse,
    });
    expect((await t.ok('datasets:list', {}))[0]).toMatchObject({ id, count: 100 });
    await t.ok('runs:stop', { runId });
    await waitForRun(t, runId, ['stopped', 'completed', 'failed']);
    expect((await t.ok('datasets:removeImages', { id, indices: [0] })).count).toBe(99);
  });
});

describe('uploads (serve mode)', () => {
  it('writes chunks inside the upload folder only, within the size limits, and removes a discarded upload', async () => {
    const stale = 'up-0123456789abcdef';
    t = hostInTemp({ prepare: (ws) => fs.mkdirSync(path.join(ws, 'uploads', stale, 'a'), { recursive: true }) });
    expect(fs.existsSync(path.join(t.ws, 'uploads', stale))).toBe(false); // an earlier session's upload can never be imported
    const { uploadId } = await t.ok('datasets:uploadBegin', {});
    expect(uploadId).toMatch(/^up-[0-9a-f]{16}$/);
    const dir = path.join(t.ws, 'uploads', uploadId);
    expect(
      await t.ok('datasets:uploadChunk', {
        uploadId,
        path: 'cats/1.png',
        data: b64(Buffer.from('abc')),
        append: false,
      }),
    ).toEqual({ bytes: 3 });
    expect(
      await t.ok('datasets:uploadChunk', { uploadId, path: 'cats/1.png', data: b64(Buffer.from('def')), append: true }),
    ).toEqual({ bytes: 6 });
    expect(fs.readFileSync(path.join(dir, 'cats', '1.png'), 'utf8')).toBe('abcdef');

    for (const rel of ['../escape.png', '/etc/x.png', 'a/../../escape.png']) {
      const e = await t.refused('datasets:uploadChunk', {
        uploadId,
        path: rel,
        data: b64(Buffer.from('x')),
        append: false,
      });
      expect(['invalid_payload', 'forbidden'], rel).toContain(e.code);
    }
    expect(fs.readdirSync(path.join(t.ws, 'uploads')).sort()).toEqual([uploadId]);
    expect(fs.existsSync(path.join(t.ws, 'escape.png'))).toBe(false);

    const big = await t.refused('datasets:uploadChunk', {
      uploadId,
      path: 'big.png',
      data: b64(Buffer.alloc(1024 * 1024 + 1000)),
      append: false,
    });
    expect(big).toEqual({ code: 'invalid_payload', message: 'A chunk may hold at most 1 MiB.' });
    expect(
      await t.refused('datasets:uploadChunk', {
        uploadId: 'up-ffffffffffffffff',
        path: 'a.png',
        data: 'eA==',
        append: false,
      }),
    ).toEqual({
      code: 'not_found',
      message: "There is no upload 'up-ffffffffffffffff'.",
    });

    expect(await t.ok('datasets:uploadDiscard', { uploadId })).toEqual({ discarded: true });
    expect(fs.existsSync(dir)).toBe(false);
    expect(await t.ok('datasets:uploadDiscard', { uploadId })).toEqual({ discarded: false });
  });

  it('imports an upload in the trainer: the preview and the dataset take their labels from the sub-folders, and the upload is consumed', async () => {
    t = hostInTemp();
    const { uploadId } = await t.ok('datasets:uploadBegin', {});
    for (const f of ['pics/cats/1.png', 'pics/cats/2.png', 'pics/dogs/3.png'])
      await t.ok('datasets:uploadChunk', { uploadId, path: f, data: b64(await png()), append: false });
    const options = { size: 8, mode: 'rgb', fit: 'stretch', validationSplit: 0.1, seed: 42, background: 'black' };
    const preview = await t.ok('datasets:previewImport', { source: { uploadId }, options, count: 8 });
    expect(preview.shape).toEqual([8, 8, 3]);
    expect(preview.images).toHaveLength(3);

    expect(await t.refused('datasets:import', { source: { paths: ['relative/pics'] }, name: 'x', options })).toEqual({
      code: 'invalid_payload',
      message: 'Import paths must be absolute.',
    });
    const { jobId } = await t.ok('datasets:import', { source: { uploadId }, name: 'Pets', options });
    const started = Date.now();
    let done: EventPayload<'datasets:importDone'> | undefined;
    while (!done && Date.now() - started < 60_000) {
      done = t.events.find(
        ([n, p]) => n === 'datasets:importDone' && (p as { jobId: string }).jobId === jobId,
      )?.[1] as typeof done;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(done, 'the import never finished').toBeDefined();
    expect(done).toMatchObject({ status: 'done', report: { imported: 3, labelCounts: { cats: 2, dogs: 1 } } });
    expect((await t.ok('datasets:list', {})).find((d) => 'name' in d && d.name === 'Pets')).toMatchObject({
      count: 3,
      labelNames: ['cats', 'dogs'],
    });
    await new Promise((r) => setTimeout(r, 200)); // the upload folder is removed as the job ends
    expect(fs.existsSync(path.join(t.ws, 'uploads', uploadId))).toBe(false);
    expect(await t.refused('datasets:import', { source: { uploadId }, name: 'again', options })).toEqual({
      code: 'not_found',
      message: `There is no upload '${uploadId}'.`,
    });
    expect(await t.ok('datasets:cancelImport', { jobId })).toEqual({ cancelling: false }); // it has ended
  });
});
