// The workspace folder: its layout manifest (workspace.json, with a schema version),
// the user's settings (settings.json) and an inventory that flags anything the studio cannot use
// — a damaged manifest, a run folder without a readable run.json, an unknown file — without
// deleting or rewriting it. Everything is read with plain fs (small JSON files; no tfjs here).
import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { Settings, type FlaggedItem, type RunSummary } from '../contract';
import { CallError } from './dispatch';
import { describeOwner, liveRunOwners } from './ownership';
import { writeJsonAtomic } from '../fs-safety/atomic';
import { listDatasets } from '../datasets/store';

export const WORKSPACE_SCHEMA_VERSION = 1;

/** The lock two studios take in turn to change settings.json (proper-lockfile's directory). */
const SETTINGS_LOCK = 'settings.json.lock';

/** Top-level entries the studio owns; anything else is listed as unknown (and left alone). */
const KNOWN_ENTRIES = new Set([
  'workspace.json',
  'settings.json',
  SETTINGS_LOCK,
  'runs',
  'datasets',
  'exports',
  'uploads',
]);
/** Leftovers of atomic writes (`x.tmp-…`, `x.old`) and of a damaged file kept aside. */
const HOUSEKEEPING = /\.(tmp-[^/]*|old|damaged(-\d+)?)$/;

export interface OpenedWorkspace {
  dir: string;
  schemaVersion: number;
  /** Items flagged while opening (manifest, settings); the inventory adds the rest. */
  flagged: FlaggedItem[];
  settings: Settings;
}

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Keeps a damaged file for the user to inspect, under a name the studio will not read again. */
function setAside(file: string): string {
  let target = `${file}.damaged`;
  for (let i = 2; fs.existsSync(target); i++) target = `${file}.damaged-${i}`;
  fs.renameSync(file, target);
  return path.basename(target);
}

/**
 * Opens `dir` as a workspace, creating it (and workspace.json) when new. Throws only when the
 * folder cannot be used at all (not a folder, not writable), with a plain message.
 */
export function openWorkspaceDir(dir: string): OpenedWorkspace {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not a folder.`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new Error(
      `The studio cannot write to ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
    );
  }
  const flagged: FlaggedItem[] = [];
  const manifestFile = path.join(dir, 'workspace.json');
  let schemaVersion = WORKSPACE_SCHEMA_VERSION;
  const fresh = () =>
    writeJsonAtomic(manifestFile, {
      app: 'autoencoder-studio',
      schemaVersion: WORKSPACE_SCHEMA_VERSION,
      createdAt: Date.now(),
    });
  if (!fs.existsSync(manifestFile)) fresh();
  else {
    try {
      const m = readJson(manifestFile) as { schemaVersion?: unknown };
      if (typeof m?.schemaVersion !== 'number' || !Number.isInteger(m.schemaVersion))
        throw new Error('it has no schemaVersion');
      schemaVersion = m.schemaVersion;
      if (schemaVersion > WORKSPACE_SCHEMA_VERSION) {
        flagged.push({
          item: 'workspace.json',
          message: `This workspace was written by a newer Autoencoder Studio (layout version ${schemaVersion}; this one reads ${WORKSPACE_SCHEMA_VERSION}). Items it cannot read are flagged; nothing is changed.`,
        });
      }
    } catch (err) {
      const kept = setAside(manifestFile);
      fresh();
      flagged.push({
        item: 'workspace.json',
        message: `workspace.json could not be read (${(err as Error).message}); a fresh one was written and the damaged file kept as ${kept}.`,
      });
    }
  }
  const { settings, flag } = readSettings(dir);
  if (flag) flagged.push(flag);
  return { dir, schemaVersion, flagged, settings };
}

/** settings.json, with defaults for anything missing; a damaged file is flagged and left as is until the user saves. */
export function readSettings(dir: string): { settings: Settings; flag?: FlaggedItem } {
  const file = path.join(dir, 'settings.json');
  if (!fs.existsSync(file)) return { settings: Settings.parse({}) };
  try {
    const raw = readJson(file);
    const parsed = Settings.safeParse(raw);
    if (parsed.success) return { settings: parsed.data };
    // Keep the values that are valid, default the rest.
    const keep: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (k in Settings.shape && Settings.pick({ [k]: true } as never).safeParse({ [k]: v }).success) keep[k] = v;
    }
    const bad = parsed.error.issues.map((i) => i.path.join('.') || i.message).join(', ');
    return {
      settings: Settings.parse(keep),
      flag: {
        item: 'settings.json',
        message: `Some settings could not be used (${bad}); their defaults apply until you change them.`,
      },
    };
  } catch (err) {
    return {
      settings: Settings.parse({}),
      flag: {
        item: 'settings.json',
        message: `settings.json could not be read (${(err as Error).message}); defaults apply until you change a setting.`,
      },
    };
  }
}

/** Saves settings atomically; a settings.json that was damaged or held invalid values is kept aside first. */
export function writeSettings(dir: string, settings: Settings): void {
  const file = path.join(dir, 'settings.json');
  if (fs.existsSync(file)) {
    let usable = false;
    try {
      usable = Settings.safeParse(readJson(file)).success;
    } catch {
      // unreadable JSON
    }
    if (!usable) setAside(file);
  }
  writeJsonAtomic(file, settings);
}

/**
 * Changes some settings and keeps the rest as settings.json has them now: read, merge and write
 * under the settings lock, so two studios writing different keys at once never lose each other's.
 */
export async function updateSettings(dir: string, changes: Partial<Settings>): Promise<Settings> {
  fs.mkdirSync(dir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path.join(dir, 'settings.json'), {
      lockfilePath: path.join(dir, SETTINGS_LOCK),
      realpath: false,
      retries: { retries: 40, minTimeout: 10, maxTimeout: 100 },
      onCompromised: () => undefined, // held for milliseconds; a stalled writer's merge is still a merge
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED')
      throw new CallError(
        'conflict',
        'Another studio is saving the settings of this workspace right now; try again in a moment.',
      );
    throw err;
  }
  try {
    const next = { ...readSettings(dir).settings, ...changes };
    writeSettings(dir, next);
    return next;
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Why dataset `id` must not change now, or undefined: a run of this studio (`busyHere`) or of another
 * process (a live lock in its run folder whose owner.json names the dataset, not one of this
 * studio's `ownedHere`, which may still be giving its lock back) trains on it.
 */
export function datasetInUse(
  dir: string,
  id: string,
  busyHere: RunSummary[],
  ownedHere: (runId: string) => boolean,
): string | undefined {
  if (busyHere.some((r) => 'id' in r.dataset && r.dataset.id === id))
    return 'A run is training on this dataset; change it when the run has finished or is stopped.';
  const reader = liveRunOwners(dir).find(
    ({ runId, owner }) => 'dataset' in owner && owner.dataset === id && !ownedHere(runId),
  );
  if (reader)
    return `Run ${reader.runId} is training on this dataset in another studio — ${describeOwner(reader.owner)}; delete or change it when that run has finished or is stopped.`;
  return undefined;
}

/** Run folders without a readable run.json, unknown top-level entries and damaged datasets. */
export function inventory(dir: string): { flagged: FlaggedItem[]; datasets: number; exports: number } {
  const flagged: FlaggedItem[] = [];
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (KNOWN_ENTRIES.has(name) || HOUSEKEEPING.test(name)) continue;
    flagged.push({ item: name, message: 'Not something the studio made; left untouched.' });
  }
  const runsDir = path.join(dir, 'runs');
  for (const id of fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []) {
    if (HOUSEKEEPING.test(id)) continue;
    const file = path.join(runsDir, id, 'run.json');
    if (!fs.statSync(path.join(runsDir, id)).isDirectory()) {
      flagged.push({ item: `runs/${id}`, message: 'Not a run folder; left untouched.' });
      continue;
    }
    try {
      const run = readJson(file) as { runId?: unknown };
      if (run?.runId !== id) throw new Error(`it names run '${String(run?.runId)}'`);
    } catch (err) {
      const why =
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'it has no run.json'
          : `run.json could not be read: ${(err as Error).message}`;
      flagged.push({
        item: `runs/${id}`,
        message: `This run cannot be listed (${why}); its folder is left untouched.`,
      });
    }
  }
  let datasets = 0;
  for (const d of listDatasets(dir)) {
    if ('error' in d) flagged.push({ item: `datasets/${d.id}`, message: d.error });
    else datasets++;
  }
  const exportsDir = path.join(dir, 'exports');
  const exports = fs.existsSync(exportsDir)
    ? fs.readdirSync(exportsDir).filter((n) => n.startsWith('exp-') && !HOUSEKEEPING.test(n)).length
    : 0;
  return { flagged, datasets, exports };
}
