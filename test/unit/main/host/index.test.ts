// host/index.ts, the host createHost builds: `app:info`, `workspace:info`, `settings:set` and
// `workspace:open` on a real workspace folder, and the per-workspace services swapped whole when
// another workspace opens (its runs listed, the old ones gone). Opening another workspace is
// refused while a run trains (a real run in the real trainer).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../../../src-main/contract';
import { cornersDataset, hostInTemp, tinyConfig, waitForRun, type TestHost } from './helpers';

let t: TestHost | undefined;
const extra: string[] = [];
afterEach(async () => {
  await t?.dispose();
  t = undefined;
  for (const d of extra.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-host-other-'));
  extra.push(d);
  return d;
};
const changes = (t: TestHost) =>
  t.events.filter(([n]) => n === 'workspace:changed').map(([, p]) => p as EventPayload<'workspace:changed'>);

describe('the host', () => {
  it('says what it is and describes a fresh workspace, which it sets up', async () => {
    t = hostInTemp();
    expect(await t.ok('app:info', {})).toEqual({
      name: 'Autoencoder Studio',
      version: 'test',
      mode: 'serve',
      platform: `${process.platform}-${process.arch}`,
      nodeVersion: process.versions.node,
    });
    expect(await t.ok('workspace:info', {})).toEqual({
      path: t.ws,
      schemaVersion: 1,
      datasets: 0,
      runs: 0,
      exports: 0,
      flagged: [],
      settings: { theme: 'system', maxConcurrentRuns: 2 },
      nativeDialogs: false,
    });
    expect(JSON.parse(fs.readFileSync(path.join(t.ws, 'workspace.json'), 'utf8'))).toMatchObject({
      app: 'autoencoder-studio',
      schemaVersion: 1,
    });
  });

  it('saves settings to settings.json and says so; refuses invalid values and writes nothing', async () => {
    t = hostInTemp();
    expect(await t.ok('settings:set', { theme: 'dark' })).toEqual({ theme: 'dark', maxConcurrentRuns: 2 });
    expect(await t.ok('settings:set', { maxConcurrentRuns: 1 })).toEqual({ theme: 'dark', maxConcurrentRuns: 1 });
    const file = path.join(t.ws, 'settings.json');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ theme: 'dark', maxConcurrentRuns: 1 });
    expect(changes(t).map((c) => c.settings)).toEqual([
      { theme: 'dark', maxConcurrentRuns: 2 },
      { theme: 'dark', maxConcurrentRuns: 1 },
    ]);
    const before = fs.readFileSync(file, 'utf8');
    for (const bad of [{ theme: 'purple' }, { maxConcurrentRuns: 0 }, { colour: 'red' }]) {
      const e = await t.refused('settings:set', bad);
      expect(e.code).toBe('invalid_payload');
      expect(e.message).toMatch(/^Invalid request for 'settings:set': /);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(changes(t)).toHaveLength(2);
    expect((await t.ok('workspace:info', {})).settings).toEqual({ theme: 'dark', maxConcurrentRuns: 1 });
  });

  it('opens another workspace by path: its runs replace the old ones; a file or no path is refused in plain words', async () => {
    t = hostInTemp();
    const other = tempDir();
    fs.mkdirSync(path.join(other, 'runs', 'run-20261201-120000-abcd'), { recursive: true });
    fs.writeFileSync(
      path.join(other, 'runs', 'run-20261201-120000-abcd', 'run.json'),
      JSON.stringify({
        runId: 'run-20261201-120000-abcd',
        status: 'stopped',
        config: tinyConfig,
        dataset: { builtin: 'mnist', count: 1000 },
        epochsDone: 0,
        history: { loss: [], valLoss: [] },
        startedAt: 1,
      }),
    );
    expect(await t.refused('workspace:open', {})).toEqual({
      code: 'invalid_payload',
      message: 'Type the absolute path of the workspace folder to open.',
    });
    expect((await t.refused('workspace:open', { path: 'relative/folder' })).code).toBe('invalid_payload');
    const file = path.join(other, 'notes.txt');
    fs.writeFileSync(file, 'x');
    expect(await t.refused('workspace:open', { path: file })).toEqual({
      code: 'invalid_payload',
      message: `${file} is a file, not a folder.`,
    });
    expect(t.host.workspaceDir()).toBe(t.ws);

    const opened = await t.ok('workspace:open', { path: other });
    expect(opened).toMatchObject({
      cancelled: false,
      info: { path: other, runs: 1, flagged: [{ item: 'notes.txt' }] },
    });
    expect(t.host.workspaceDir()).toBe(other);
    expect(changes(t).at(-1)?.path).toBe(other);
    expect((await t.ok('runs:list', {})).map((r) => r.runId)).toEqual(['run-20261201-120000-abcd']);
    expect(fs.existsSync(path.join(other, 'workspace.json'))).toBe(true);
  });

  it('with native dialogs, a cancelled folder pick opens nothing', async () => {
    let asked = '';
    t = hostInTemp({
      dialogs: {
        pickDirectory: async (title) => ((asked = title), undefined),
        pickSavePath: async () => undefined,
      },
    });
    const r = await t.ok('workspace:open', {});
    expect(asked).toBe('Open a workspace folder');
    expect(r).toMatchObject({ cancelled: true, info: { path: t.ws, nativeDialogs: true } });
    expect(changes(t)).toEqual([]);
  });

  it('refuses to open another workspace while a run trains, and keeps the run', async () => {
    t = hostInTemp();
    const dataset = await cornersDataset(t.ws);
    const { runId } = await t.ok('runs:start', { config: { ...tinyConfig, epochs: 500 }, dataset: { id: dataset } });
    const e = await t.refused('workspace:open', { path: tempDir() });
    expect(e).toEqual({
      code: 'conflict',
      message: 'A run is training in this workspace; stop it before opening another workspace.',
    });
    expect(t.host.workspaceDir()).toBe(t.ws);
    await t.ok('runs:stop', { runId });
    expect((await waitForRun(t, runId, ['stopped', 'completed', 'failed'])).status).toBe('stopped');
  });
});
