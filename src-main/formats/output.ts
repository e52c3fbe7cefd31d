// Atomic export outputs, written through atomic.ts: a file goes to a temporary name beside `out`
// and is renamed over it (writeFileAtomicWith); a folder is filled in a temporary folder and
// swapped in (writeDirAtomic). On any failure the temporary is removed, so nothing partial is ever
// left at `out` (a previous export stays as it was).
import fs from 'node:fs';
import path from 'node:path';
import { writeDirAtomic, writeFileAtomicWith } from '../fs-safety/atomic';

export interface ExportResult {
  /** Absolute paths of the files written. */
  files: string[];
  /** Their total size in bytes. */
  bytes: number;
}

function listFiles(p: string): string[] {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return [p];
  return fs
    .readdirSync(p)
    .sort()
    .flatMap((e) => listFiles(path.join(p, e)));
}

export function resultFor(out: string): ExportResult {
  const files = listFiles(out);
  return { files, bytes: files.reduce((s, f) => s + fs.statSync(f).size, 0) };
}

/** Writes one file: `fill(tmp)` writes the temporary file, which then replaces `out`. */
export async function writeFileAtomic(out: string, fill: (tmp: string) => Promise<void> | void): Promise<ExportResult> {
  out = path.resolve(out);
  if (fs.existsSync(out) && fs.statSync(out).isDirectory())
    throw new Error(`${out} is a folder; give a file name to write.`);
  await writeFileAtomicWith(out, fill);
  return resultFor(out);
}

/**
 * Writes one folder atomically. An existing `out` is replaced only when `isOurs` says it is a
 * previous export (never a user's folder with other things in it); an empty folder is fine.
 */
export async function writeFolderAtomic(
  out: string,
  fill: (tmp: string) => Promise<void>,
  isOurs: (dir: string) => boolean,
): Promise<ExportResult> {
  out = path.resolve(out);
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new Error(`${out} exists and is not a folder.`);
    if (fs.readdirSync(out).length > 0 && !isOurs(out)) {
      throw new Error(
        `${out} is a folder with other files in it; export into a new or empty folder (an earlier export of the same kind is replaced).`,
      );
    }
  }
  await writeDirAtomic(out, fill);
  return resultFor(out);
}
