// host/workspace.ts: the workspace folder's manifest, settings and inventory, on real folders.
// Anything the studio cannot use is flagged and left byte for byte as it was (a damaged manifest
// or settings file is kept aside under a name the studio will not read again); leftovers of atomic
// writes are not flagged; a folder that cannot be a workspace is refused in plain words.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  inventory,
  openWorkspaceDir,
  readSettings,
  writeSettings,
  WORKSPACE_SCHEMA_VERSION,
} from '../../../../src-main/host/workspace';
import { cornersDataset, hostInTemp } from './helpers';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-ws-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

describe('opening a workspace folder', () => {
  it('creates a missing folder with its manifest and default settings', () => {
    const dir = path.join(tmp(), 'new', 'workspace');
    const opened = openWorkspaceDir(dir);
    expect(opened).toEqual({
      dir,
      schemaVersion: WORKSPACE_SCHEMA_VERSION,
      flagged: [],
      settings: { theme: 'system', maxConcurrentRuns: 2 },
    });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'workspace.json'), 'utf8'))).toMatchObject({
      app: 'autoencoder-studio',
      schemaVersion: WORKSPACE_SCHEMA_VERSION,
    });
    expect(fs.readdirSync(dir)).toEqual(['workspace.json']);
  });

  it('refuses a file in plain words', () => {
    const file = path.join(tmp(), 'a.txt');
    fs.writeFileSync(file, 'x');
    expect(() => openWorkspaceDir(file)).toThrow(`${file} is a file, not a folder.`);
  });

  it('keeps a damaged manifest aside and writes a fresh one; flags a newer one and leaves it as it is', () => {
    const dir = tmp();
    write(path.join(dir, 'workspace.json'), '{"schemaVersion": oops');
    const opened = openWorkspaceDir(dir);
    expect(opened.flagged).toEqual([
      {
        item: 'workspace.json',
        message: expect.stringMatching(
          /^workspace\.json could not be read \(.+\); a fresh one was written and the damaged file kept as workspace\.json\.damaged\.$/,
        ),
      },
    ]);
    expect(fs.readFileSync(path.join(dir, 'workspace.json.damaged'), 'utf8')).toBe('{"schemaVersion": oops');
    write(path.join(dir, 'workspace.json'), '{}');
    openWorkspaceDir(dir);
    expect(fs.existsSync(path.join(dir, 'workspace.json.damaged-2'))).toBe(true); // the first one kept too

    const newer = tmp();
    const text = JSON.stringify({
      app: 'autoencoder-studio',
      schemaVersion: WORKSPACE_SCHEMA_VERSION + 1,
      createdAt: 1,
    });
    write(path.join(newer, 'workspace.json'), text);
    const o = openWorkspaceDir(newer);
    expect(o.schemaVersion).toBe(WORKSPACE_SCHEMA_VERSION + 1);
    expect(o.flagged[0].message).toMatch(
      /written by a newer Autoencoder Studio \(layout version 2; this one reads 1\)/,
    );
    expect(fs.readFileSync(path.join(newer, 'workspace.json'), 'utf8')).toBe(text);
  });
});

describe('settings', () => {
  it('keeps the valid values of a settings file, defaults the rest and says which; a save sets the bad file aside', () => {
    const dir = tmp();
    write(path.join(dir, 'settings.json'), JSON.stringify({ theme: 'dark', maxConcurrentRuns: 99 }));
    const { settings, flag } = readSettings(dir);
    expect(settings).toEqual({ theme: 'dark', maxConcurrentRuns: 2 });
    expect(flag).toEqual({
      item: 'settings.json',
      message: 'Some settings could not be used (maxConcurrentRuns); their defaults apply until you change them.',
    });
    writeSettings(dir, { ...settings, maxConcurrentRuns: 3 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'settings.json'), 'utf8'))).toEqual({
      theme: 'dark',
      maxConcurrentRuns: 3,
    });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'settings.json.damaged'), 'utf8'))).toEqual({
      theme: 'dark',
      maxConcurrentRuns: 99,
    });
    expect(readSettings(dir).flag).toBeUndefined();

    write(path.join(dir, 'settings.json'), 'not json');
    expect(readSettings(dir)).toEqual({
      settings: { theme: 'system', maxConcurrentRuns: 2 },
      flag: {
        item: 'settings.json',
        message: expect.stringMatching(
          /^settings\.json could not be read \(.+\); defaults apply until you change a setting\.$/,
        ),
      },
    });
  });
});

describe('the inventory', () => {
  it('flags unknown entries, run folders it cannot list and damaged datasets, leaves them untouched, and ignores leftovers of atomic writes', async () => {
    const t = hostInTemp();
    try {
      const ws = t.ws;
      await cornersDataset(ws);
      write(path.join(ws, 'holiday.jpg'), 'a picture the user put here');
      write(path.join(ws, 'settings.json.tmp-123'), '{');
      write(path.join(ws, 'runs', 'run-a', 'checkpoint', 'x'), '');
      write(path.join(ws, 'runs', 'run-b', 'run.json'), '{"runId":"run-c"}');
      write(path.join(ws, 'runs', 'stray.txt'), '');
      write(path.join(ws, 'runs', 'run-d.old', 'run.json'), '');
      write(path.join(ws, 'datasets', 'broken-000000', 'manifest.json'), '{');
      write(path.join(ws, 'exports', 'exp-1', 'export.json'), '{}');
      write(path.join(ws, 'exports', 'exp-2.tmp-9', 'export.json'), '{}');
      const before = fs.readFileSync(path.join(ws, 'runs', 'run-b', 'run.json'), 'utf8');
      const inv = inventory(ws);
      expect(inv.datasets).toBe(1);
      expect(inv.exports).toBe(1);
      const byItem = Object.fromEntries(inv.flagged.map((f) => [f.item, f.message]));
      expect(Object.keys(byItem).sort()).toEqual([
        'datasets/broken-000000',
        'holiday.jpg',
        'runs/run-a',
        'runs/run-b',
        'runs/stray.txt',
      ]);
      expect(byItem['holiday.jpg']).toBe('Not something the studio made; left untouched.');
      expect(byItem['runs/run-a']).toBe(
        'This run cannot be listed (it has no run.json); its folder is left untouched.',
      );
      expect(byItem['runs/run-b']).toMatch(
        /^This run cannot be listed \(run\.json could not be read: it names run 'run-c'\)/,
      );
      expect(byItem['runs/stray.txt']).toBe('Not a run folder; left untouched.');
      expect(fs.readFileSync(path.join(ws, 'runs', 'run-b', 'run.json'), 'utf8')).toBe(before);
      // the host's workspace:info lists the same
      const info = await t.ok('workspace:info', {});
      expect(info.flagged.map((f) => f.item).sort()).toEqual(Object.keys(byItem).sort());
      expect(info).toMatchObject({ datasets: 1, exports: 1 });
    } finally {
      await t.dispose();
    }
  });
});
