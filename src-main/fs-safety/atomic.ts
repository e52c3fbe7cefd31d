// The one file-system module for atomic writes (no tfjs: the host, the dataset store, the exports
// and the CLI use it too): everything goes into a temporary folder or file beside the target, is
// fsynced, and then replaces the target by rename. A crash leaves either the old version or the
// new one, never half of one; a failure (a full disk) removes the temporary and leaves the target
// as it was.
import fs from 'node:fs';
import path from 'node:path';

/** Replaces `dir` with what `fill(tmp)` writes into a fresh temporary folder. */
export async function writeDirAtomic(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const old = `${dir}.old`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await fill(tmp);
    fsyncTree(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  // When only `.old` exists (a crash fell between the two renames last time) it is the one good
  // copy: it is kept until the new folder is in place.
  if (fs.existsSync(dir)) {
    fs.rmSync(old, { recursive: true, force: true });
    fs.renameSync(dir, old);
  }
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** The folder to read: `dir`, or the previous good one if a crash fell between the two renames. */
export function readableDir(dir: string): string | undefined {
  if (fs.existsSync(dir)) return dir;
  if (fs.existsSync(`${dir}.old`)) return `${dir}.old`;
  return undefined;
}

/** Flushes one file's contents to the disk. */
function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncTree(dir: string) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) fsyncTree(p);
    else {
      fsyncFile(p);
    }
  }
}

/** Writes JSON to a file atomically (temp file + rename). */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(value, null, 2));
    fsyncFile(tmp);
  } catch (err) {
    fs.rmSync(tmp, { force: true }); // e.g. a full disk: no half-written temp file stays behind
    throw err;
  }
  fs.renameSync(tmp, file);
}

/** The same without blocking (the host's run.json writes): temp file, fsync, rename; the temp file is removed on failure. */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fh = await fs.promises.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes one file through `fill(tmp)`, which writes a hidden temporary file beside `file` (so
 * writers that take a path — image encoders, model converters — stay atomic); it is fsynced and
 * renamed over `file`, or removed if anything fails.
 */
export async function writeFileAtomicWith(file: string, fill: (tmp: string) => Promise<void> | void): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  try {
    await fill(tmp);
    fsyncFile(tmp);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Copies a file or a folder to `dest` without blocking (the host's Save as…): into a temporary
 * name beside `dest`, fsynced, then renamed over it, so `dest` is whole or as it was; the
 * temporary is removed on failure and the error (e.g. ENOSPC) is passed on.
 */
export async function copyAtomic(src: string, dest: string): Promise<void> {
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fs.promises.cp(src, tmp, { recursive: true, errorOnExist: true, force: false });
    await fsyncTreeAsync(tmp);
    await fs.promises.rm(dest, { recursive: true, force: true });
    await fs.promises.rename(tmp, dest);
  } catch (err) {
    await fs.promises.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** fsync of a file, or of every file under a folder. */
async function fsyncTreeAsync(p: string): Promise<void> {
  const st = await fs.promises.stat(p);
  if (st.isDirectory()) {
    for (const e of await fs.promises.readdir(p)) await fsyncTreeAsync(path.join(p, e));
    return;
  }
  const fh = await fs.promises.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
