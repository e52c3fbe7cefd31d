// host/exports.ts (`export:*`, `models:import`) through createHost and the REAL trainer, on a run
// trained for one epoch on a tiny stored dataset: a model, its codes and a Gallery view are written
// into exports/<exportId>/ with export.json and listed newest first; a damaged record is not listed;
// an export that fails leaves no folder; Save as… copies an export whole with the desktop's dialog
// and is refused in words in serve mode; a TensorFlow.js export comes back as a run. Unknown runs,
// runs without a model and folders without model.json are refused in plain words, writing nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportRecord } from '../../../../src-main/contract';
import { hostInTemp, storedRun, trainedRun, type TestHost } from './helpers';

const noModel = 'run-20261201-000000-0000';
const damagedModel = 'run-20261201-000000-0001';
let t: TestHost;
let runId: string;
beforeAll(async () => {
  t = hostInTemp({
    prepare: (ws) => {
      storedRun(ws, noModel, 'stopped');
      storedRun(ws, damagedModel, 'completed', { epochsDone: 1 });
      fs.mkdirSync(path.join(ws, 'runs', damagedModel, 'model', 'encoder'), { recursive: true });
      fs.writeFileSync(
        path.join(ws, 'runs', damagedModel, 'model', 'encoder', 'model.json'),
        '{"modelTopology": trunc',
      );
      fs.mkdirSync(path.join(ws, 'exports', 'exp-damaged'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'exports', 'exp-damaged', 'export.json'), '{');
    },
  });
  runId = await trainedRun(t);
});
afterAll(async () => {
  await t?.dispose();
});
const exportFolders = () => fs.readdirSync(path.join(t.ws, 'exports')).sort();

describe('exports', () => {
  it('refuses unknown runs, runs without a model and a model that cannot be read, leaving no export folder', async () => {
    expect(await t.ok('export:list', {})).toEqual([]); // the damaged record is not listed
    expect(await t.refused('export:model', { runId: 'run-20990101-000000-ffff', format: 'onnx' })).toEqual({
      code: 'not_found',
      message: "There is no run 'run-20990101-000000-ffff' in this workspace.",
    });
    expect(await t.refused('export:latents', { runId: noModel })).toEqual({
      code: 'conflict',
      message: `Run '${noModel}' has no trained model yet (it is stopped); export a run that has finished training.`,
    });
    const failed = await t.refused('export:model', { runId: damagedModel, format: 'tfjs' });
    expect(failed.code).not.toBe('internal');
    expect(failed.message).toMatch(/\w/);
    expect(exportFolders()).toEqual(['exp-damaged']);
  });

  it('writes the model, its codes and a Gallery view, each complete, named by the run and listed newest first', async () => {
    // named by the run's name, made file-safe
    await t.ok('runs:update', { runId, name: 'Corners: dense, 2-d code (café)' });
    const model = await t.ok('export:model', { runId, format: 'tfjs', part: 'full' });
    expect(model).toMatchObject({
      runId,
      kind: 'model',
      format: 'tfjs',
      part: 'full',
      fileName: 'corners-dense-2-d-code-cafe-autoencoder-tfjs',
      download: `/exports/${model.exportId}`,
    });
    const dir = path.join(t.ws, 'exports', model.exportId);
    expect(model.files).toContain(path.join(model.fileName, 'model.json'));
    for (const f of model.files) expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'export.json'), 'utf8'))).toEqual(model);

    // another run of the same name: the file names tell the two apart by the end of the run id
    await t.ok('runs:update', { runId: noModel, name: 'Corners — dense, 2-d code (Café)' });
    const latents = await t.ok('export:latents', { runId });
    expect(latents.fileName).toBe(`corners-dense-2-d-code-cafe-${runId.slice(-4)}-latents.csv`);
    await t.ok('runs:update', { runId: noModel, name: 'Something else' });
    const rows = fs
      .readFileSync(path.join(t.ws, 'exports', latents.exportId, latents.fileName), 'utf8')
      .trim()
      .split('\n');
    expect(rows).toHaveLength(1 + 100);
    expect(rows[1].split(',')).toHaveLength(1 + 2); // label + the 2-d code

    const grid = await t.ok('export:gallery', { runId, view: 'triplets', count: 4 });
    expect(grid).toMatchObject({
      kind: 'gallery',
      format: 'png',
      fileName: 'corners-dense-2-d-code-cafe-triplets.png',
    });
    expect(
      fs
        .readFileSync(path.join(t.ws, 'exports', grid.exportId, grid.fileName))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    const listed = await t.ok('export:list', { runId });
    expect(listed.map((e) => e.exportId).sort()).toEqual([model.exportId, latents.exportId, grid.exportId].sort());
    expect(listed.map((e) => e.createdAt)).toEqual([...listed.map((e) => e.createdAt)].sort((a, b) => b - a));
    expect(await t.ok('export:list', { runId: noModel })).toEqual([]);
  });

  it('imports a TensorFlow.js export back as a run the Gallery shows; a folder without model.json is refused and writes nothing', async () => {
    expect(await t.refused('models:import', {})).toEqual({
      code: 'invalid_payload',
      message: 'Give the folder of a TensorFlow.js export (the one holding model.json).',
    });
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-not-an-export-'));
    const runsBefore = fs.readdirSync(path.join(t.ws, 'runs')).sort();
    expect(await t.refused('models:import', { path: empty })).toEqual({
      code: 'invalid_payload',
      message: `${empty} has no model.json: choose the folder of a TensorFlow.js export.`,
    });
    expect(fs.readdirSync(path.join(t.ws, 'runs')).sort()).toEqual(runsBefore);
    fs.rmSync(empty, { recursive: true });

    const rec = (await t.ok('export:list', { runId })).find((e) => e.format === 'tfjs') as ExportRecord;
    const r = await t.ok('models:import', { path: path.join(t.ws, 'exports', rec.exportId, rec.fileName) });
    expect(r).toMatchObject({ cancelled: false, runId: expect.stringMatching(/^imported-/) });
    const imported = (await t.ok('runs:list', {})).find((x) => x.runId === r.runId);
    expect(imported).toMatchObject({
      status: 'stopped',
      hasModel: true,
      dataset: { id: expect.stringMatching(/^corners-/) },
    });
    expect((await t.ok('gallery:samples', { runId: r.runId!, count: 2 })).images).toHaveLength(2);
  });

  it('Save as… copies an export whole where the desktop dialog points; serve mode has no dialog and says so', async () => {
    const [rec] = await t.ok('export:list', { runId });
    expect(await t.refused('export:saveAs', { exportId: rec.exportId })).toEqual({
      code: 'invalid_payload',
      message: 'Save dialogs exist in the desktop app; in the browser use the download link.',
    });
    expect((await t.refused('export:saveAs', { exportId: 'exp-nothing-here' })).code).toBe('not_found');

    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-save-as-'));
    const dest = path.join(target, 'chosen-name');
    let offered = '';
    const desktop = hostInTemp({
      ws: t.ws,
      dialogs: { pickDirectory: async () => undefined, pickSavePath: async (name) => ((offered = name), dest) },
    });
    try {
      expect(await desktop.ok('export:saveAs', { exportId: rec.exportId })).toEqual({ savedTo: dest });
      expect(offered).toBe(rec.fileName);
      const src = path.join(t.ws, 'exports', rec.exportId, rec.fileName);
      expect(fs.statSync(dest).size).toBe(fs.statSync(src).size);
      expect(fs.readdirSync(target)).toEqual(['chosen-name']); // no temporary left beside it
    } finally {
      await desktop.dispose();
      fs.rmSync(target, { recursive: true, force: true });
    }
  });
});
