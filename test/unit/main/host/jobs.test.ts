// host/jobs.ts (`jobs:export`, `jobs:import`) through createHost and the REAL trainer: a run written
// as a PyTorch cluster job into exports/<exportId>/ (train.py, job.json, the dataset and initial
// weights; from the run's checkpoint when asked) and listed; a job folder that has not trained is
// refused on import and leaves no run behind. Unknown runs, damaged runs, a checkpoint that does not
// exist and folders without job.json are refused in plain words, writing nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportRecord } from '../../../../src-main/contract';
import { hostInTemp, storedRun, trainedRun, type TestHost } from './helpers';

const fresh = 'run-20261201-000000-0000';
const damaged = 'run-20261201-000000-0001';
let t: TestHost;
let runId: string;
beforeAll(async () => {
  t = hostInTemp({
    prepare: (ws) => {
      storedRun(ws, fresh, 'stopped');
      fs.mkdirSync(path.join(ws, 'runs', damaged), { recursive: true });
      fs.writeFileSync(path.join(ws, 'runs', damaged, 'run.json'), '{"runId": "run-2026');
    },
  });
  runId = await trainedRun(t);
});
afterAll(async () => {
  await t?.dispose();
});
const exportFolders = () =>
  fs.existsSync(path.join(t.ws, 'exports')) ? fs.readdirSync(path.join(t.ws, 'exports')) : [];

describe('cluster jobs', () => {
  it('refuses unknown and damaged runs and a checkpoint that is not there, writing nothing', async () => {
    expect(await t.refused('jobs:export', { runId: 'run-20990101-000000-ffff' })).toEqual({
      code: 'not_found',
      message: "There is no run 'run-20990101-000000-ffff' in this workspace.",
    });
    const d = await t.refused('jobs:export', { runId: damaged });
    expect(d.code).toBe('conflict');
    expect(d.message).toMatch(new RegExp(`^Run '${damaged}' cannot be exported: run\\.json could not be read`));
    expect(await t.refused('jobs:export', { runId: fresh, fromCheckpoint: true })).toEqual({
      code: 'conflict',
      message: `Run '${fresh}' has no checkpoint yet (no epoch finished); export the job without its checkpoint to train from the start.`,
    });
    expect(exportFolders()).toEqual([]);
    expect(fs.readFileSync(path.join(t.ws, 'runs', damaged, 'run.json'), 'utf8')).toBe('{"runId": "run-2026'); // left untouched
  });

  it('writes a run as a job, from the start or from its checkpoint, and lists it', async () => {
    const check = (rec: ExportRecord, of = runId) => {
      expect(rec).toMatchObject({ runId: of, kind: 'job', format: 'torch', fileName: `${of}-torch-job` });
      const dir = path.join(t.ws, 'exports', rec.exportId, rec.fileName);
      for (const f of ['job.json', 'train.py', 'data/dataset.safetensors', 'init/model.safetensors'])
        expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
      return dir;
    };
    const plain = await t.ok('jobs:export', { runId });
    const dir = check(plain);
    expect(fs.existsSync(path.join(dir, 'init', 'optimizer.safetensors'))).toBe(false);
    const resumed = await t.ok('jobs:export', { runId, fromCheckpoint: true });
    check(resumed);
    expect((await t.ok('export:list', { runId })).map((e) => e.exportId).sort()).toEqual(
      [plain.exportId, resumed.exportId].sort(),
    );
    // the job of a run that never trained starts from the studio's initial weights
    check(await t.ok('jobs:export', { runId: fresh }), fresh);
  });

  it('refuses to import a folder without job.json, or a job that has not trained, and leaves no run behind', async () => {
    const runsBefore = fs.readdirSync(path.join(t.ws, 'runs')).sort();
    const listed = (await t.ok('runs:list', {})).length;
    expect(await t.refused('jobs:import', {})).toEqual({
      code: 'invalid_payload',
      message: 'Give the folder of a trained cluster job (the one holding job.json and out/).',
    });
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-not-a-job-'));
    expect(await t.refused('jobs:import', { path: empty })).toEqual({
      code: 'invalid_payload',
      message: `${empty} has no job.json: choose the folder of a cluster job written by Export › Train on a cluster.`,
    });
    fs.rmSync(empty, { recursive: true });

    const [job] = (await t.ok('export:list', { runId })).filter((e) => e.kind === 'job');
    const untrained = await t.refused('jobs:import', { path: path.join(t.ws, 'exports', job.exportId, job.fileName) });
    expect(untrained.code).not.toBe('internal');
    expect(untrained.message).toMatch(/\w/);
    expect(fs.readdirSync(path.join(t.ws, 'runs')).sort()).toEqual(runsBefore);
    expect(await t.ok('runs:list', {})).toHaveLength(listed);
  });
});
