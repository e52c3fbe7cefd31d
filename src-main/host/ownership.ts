// One owner per run (and per dataset being read, and for settings.json): a process that trains,
// resumes, imports or renames a run holds a lock in the run folder — `owner.lock`, a directory made
// and kept fresh by the `proper-lockfile` library — and writes `owner.json` beside it (process id,
// host name, since when, what it does). Any other process sees the lock and refuses, naming the
// owner. A lock is stale, and is taken over, when its mtime is older than LOCK_STALE_MS (the owner
// stopped refreshing it: killed, power lost, machine rebooted) or, on the same host, at once when
// its process is gone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { writeJsonAtomic } from '../fs-safety/atomic';

/** A lock not refreshed for this long is stale (the owner refreshes it every LOCK_STALE_MS / 2). */
export const LOCK_STALE_MS = 10_000;

export const LOCK_NAME = 'owner.lock';
export const OWNER_NAME = 'owner.json';

/** What owner.json records. */
export interface OwnerInfo {
  pid: number;
  host: string;
  /** When the process took the lock (ms since the epoch). */
  since: number;
  /** Which studio: the window, serve mode or the CLI. */
  app: 'electron' | 'serve' | 'cli' | 'unknown';
  /** What it does with the folder. */
  what: 'training' | 'importing' | 'renaming' | 'deleting' | 'writing settings';
  /** For a run: the dataset it reads (`{ id }` of a stored one). */
  dataset?: string;
}

/** The owner of a locked folder as another process sees it (`unknown` when owner.json is not written yet). */
export type SeenOwner = OwnerInfo | { unknown: true; since: number };

/** Refused because another process owns the folder; the message says who and what to do. */
export class OwnedElsewhere extends Error {
  readonly code = 'owned_elsewhere';
  constructor(
    readonly owner: SeenOwner,
    message: string,
  ) {
    super(message);
  }
}

export interface Owned {
  /** Removes owner.json and the lock (after the writes the caller awaited). */
  release(): Promise<void>;
}

const hhmm = (t: number) => {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
};

/** "process 4121 on HOST since 14:02" (or what is known of an owner that has not written owner.json yet). */
export function describeOwner(o: SeenOwner): string {
  if ('unknown' in o) return `a process that is just starting (since ${hhmm(o.since)})`;
  return `process ${o.pid} on ${o.host} since ${hhmm(o.since)}`;
}

/** The sentence a refused run action shows: "run X is training in another studio — process 4121 on HOST since 14:02; stop it there, or wait". */
export function runOwnedMessage(runId: string, o: SeenOwner): string {
  const what =
    'unknown' in o
      ? 'is in use by another studio'
      : o.what === 'training'
        ? 'is training in another studio'
        : `is being ${o.what === 'importing' ? 'imported' : o.what === 'renaming' ? 'renamed' : o.what === 'deleting' ? 'deleted' : 'changed'} by another studio`;
  return `Run ${runId} ${what} — ${describeOwner(o)}; stop it there, or wait.`;
}

const lockPath = (dir: string) => path.join(dir, LOCK_NAME);

function readOwner(dir: string): OwnerInfo | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(path.join(dir, OWNER_NAME), 'utf8')) as OwnerInfo;
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.since === 'number' ? o : undefined;
  } catch {
    return undefined;
  }
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'; // EPERM: it runs, as another user
  }
}

/** Whether the lock's owner is known to be gone: same host, and its process does not exist. */
function ownerGone(o: OwnerInfo | undefined): boolean {
  return !!o && o.host === os.hostname() && o.pid !== process.pid && processGone(o.pid);
}

/** Who holds `dir` now, or undefined when nobody does (no lock, or a stale one). Our own process counts too. */
export function ownerOf(dir: string, staleMs = LOCK_STALE_MS): SeenOwner | undefined {
  let mtime: number;
  try {
    mtime = fs.statSync(lockPath(dir)).mtimeMs;
  } catch {
    return undefined;
  }
  if (mtime < Date.now() - staleMs) return undefined;
  const o = readOwner(dir);
  if (ownerGone(o)) return undefined;
  return o ?? { unknown: true, since: mtime };
}

/**
 * Takes `dir` for this process (made if missing), or throws OwnedElsewhere with `refusal(owner)` when
 * another process holds it. A stale lock (see above) is taken over by the library: a gone owner's
 * lock is first dated back so the library sees it as stale.
 */
export async function takeOwnership(
  dir: string,
  info: Omit<OwnerInfo, 'pid' | 'host' | 'since'>,
  opts: { refusal: (o: SeenOwner) => string; onLost?: (err: Error) => void; staleMs?: number; retries?: number },
): Promise<Owned> {
  const staleMs = opts.staleMs ?? LOCK_STALE_MS;
  fs.mkdirSync(dir, { recursive: true });
  const before = readOwner(dir);
  if (fs.existsSync(lockPath(dir)) && ownerGone(before)) {
    try {
      fs.utimesSync(lockPath(dir), 0, 0); // the library removes it as stale and takes it
    } catch {
      // gone meanwhile: nothing to take over
    }
  }
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, {
      lockfilePath: lockPath(dir),
      realpath: false,
      stale: staleMs,
      retries: opts.retries ? { retries: opts.retries, minTimeout: 20, maxTimeout: 200 } : 0,
      // Another process judged our lock stale and took it (we stalled past LOCK_STALE_MS): say so, never throw.
      onCompromised: (err) => opts.onLost?.(err),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      const o = ownerOf(dir, staleMs) ?? readOwner(dir) ?? { unknown: true as const, since: Date.now() };
      throw new OwnedElsewhere(o, opts.refusal(o));
    }
    throw err;
  }
  const me: OwnerInfo = { pid: process.pid, host: os.hostname(), since: Date.now(), ...info };
  try {
    writeJsonAtomic(path.join(dir, OWNER_NAME), me);
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      const now = readOwner(dir);
      if (now && now.pid === me.pid && now.since === me.since) fs.rmSync(path.join(dir, OWNER_NAME), { force: true });
      await release().catch(() => undefined); // already released or taken over: nothing of ours to remove
    },
  };
}

/** Holds a new run folder (made here) while an import fills it; released when its run.json is written. */
export function holdNewRunFolder(runDir: string, app: OwnerInfo['app']): Promise<Owned> {
  return takeOwnership(
    runDir,
    { app, what: 'importing' },
    {
      refusal: (o) => `The new run folder ${path.basename(runDir)} is already taken — ${describeOwner(o)}.`,
      onLost: () => undefined,
    },
  );
}

/** The runs of the workspace that a live process trains now, with their owners (for datasets they read). */
export function liveRunOwners(workspaceDir: string): Array<{ runId: string; owner: SeenOwner }> {
  const root = path.join(workspaceDir, 'runs');
  let ids: string[];
  try {
    ids = fs.readdirSync(root);
  } catch {
    return [];
  }
  return ids.flatMap((runId) => {
    const owner = ownerOf(path.join(root, runId));
    return owner ? [{ runId, owner }] : [];
  });
}
