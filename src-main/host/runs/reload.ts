// Runs from earlier sessions, read back from <workspace>/runs/. One that another process trains now
// (it holds the run's lock, ownership.ts) is 'training-elsewhere'; one that was running when its
// studio stopped is shown as stopped ("interrupted") and resumes from its last checkpoint; a run
// folder whose run.json cannot be read is listed as 'damaged' and never touched.
import fs from 'node:fs';
import path from 'node:path';
import { StoredRunSummary, type RunSummary } from '../../contract';
import { plainIssue } from '../../contract/model-validate';
import { describeOwner, ownerOf } from '../ownership';
import type { RunFiles } from './files';

const isDir = (p: string) => {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** A run folder's name as the studio makes them (anything else is a temp file or a stray entry). */
export const RUN_FOLDER_RE = /^[a-z0-9-]{1,64}$/;

/** Every run folder of the workspace, as the studio lists it. */
export function reloadRuns(files: RunFiles): RunSummary[] {
  return runFolderIds(files).flatMap((id) => {
    const run = reloadRun(files, id);
    return run ? [run] : [];
  });
}

/** The folder names of the workspace's runs (no temp files or stray entries). */
export function runFolderIds(files: RunFiles): string[] {
  const ids = fs.existsSync(files.root) ? fs.readdirSync(files.root) : [];
  return ids.filter((id) => RUN_FOLDER_RE.test(id) && isDir(files.dir(id)));
}

/**
 * One run folder: its run.json as saved — 'training-elsewhere' while another process trains it, a
 * run that was training and has no owner now is interrupted — or a damaged entry. Undefined for a
 * folder another process is creating (locked, no run.json yet). `seeOwners: false` reads the run as
 * its owner does (this process holds the lock).
 */
export function reloadRun(files: RunFiles, id: string, seeOwners = true): RunSummary | undefined {
  const owner = seeOwners ? ownerOf(files.dir(id)) : undefined;
  const trainingElsewhere = !!owner && ('unknown' in owner || owner.what === 'training');
  let saved: RunSummary;
  try {
    saved = readRunJson(files.dir(id), id);
  } catch (err) {
    if (owner) return undefined; // being made or written by its owner: listed once its run.json is there
    return damagedRun(
      files,
      id,
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is missing' : (err as Error).message,
    );
  }
  if (trainingElsewhere && owner) {
    saved.status = 'training-elsewhere';
    saved.message = `Training in another studio — ${describeOwner(owner)}. It updates here as it trains; stop or resume it there.`;
    return saved;
  }
  if (saved.status !== 'completed') files.fromCheckpoint(saved);
  if (saved.status === 'running') {
    saved.status = 'stopped';
    saved.message = `Interrupted: the studio stopped while this run was training. Resume continues after epoch ${saved.epochsDone}.`;
  } else if (saved.status === 'queued') {
    saved.status = 'stopped';
    saved.message = 'Interrupted: the studio stopped while this run was waiting in the queue. Resume starts it.';
  }
  return saved;
}

/** Parses <dir>/run.json; throws with the reason in words when it does not describe run `id`. */
export function readRunJson(dir: string, id: string): RunSummary {
  const parsed = StoredRunSummary.safeParse(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`it does not describe this run (${i.path.join('.') || 'the file'}: ${plainIssue(i)})`);
  }
  if (parsed.data.runId !== id) throw new Error(`it does not describe this run (it names run '${parsed.data.runId}')`);
  return parsed.data;
}

function damagedRun(files: RunFiles, id: string, reason: string): RunSummary {
  let startedAt = 0;
  try {
    startedAt = fs.statSync(files.dir(id)).mtimeMs;
  } catch {
    // listed anyway
  }
  return {
    runId: id,
    status: 'damaged',
    config: null,
    dataset: { id: 'unknown' },
    epochsDone: 0,
    history: { loss: [], valLoss: [] },
    startedAt,
    message: `run.json could not be read: ${reason}. The folder runs/${id} was left untouched.`,
  };
}
