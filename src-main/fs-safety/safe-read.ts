// Reading files of a model folder someone handed us (a TensorFlow.js export, a cluster job) as
// hostile input: a path named inside the folder must stay inside it (no '..', no
// absolute path, no link that leads out), must be a regular file (not a FIFO or a device that
// would block or never end), and JSON is size-capped before it is read. Each check throws the
// caller's error class with a message naming the file and what is wrong.

import fs from 'node:fs';
import path from 'node:path';

type Fail = (message: string) => Error;

/** True for a plain relative path such as `weights.bin` or `group1-shard1of2.bin` (no '..', no root, no drive, no URL). */
export function isPlainRelativePath(p: unknown): p is string {
  if (
    typeof p !== 'string' ||
    p.length === 0 ||
    p.length > 1024 ||
    p.includes('\0') ||
    p.includes('\\') ||
    p.includes(':')
  )
    return false;
  if (p.startsWith('/')) return false;
  return p.split('/').every((s) => s !== '..' && s !== '');
}

/** The real path of `rel` inside `dir`: it must exist, be a regular file and not lead outside `dir` (through `..` or a link). */
export function fileInside(dir: string, rel: string, what: string, fail: Fail): string {
  let root: string;
  try {
    root = fs.realpathSync(dir);
  } catch {
    throw fail(`${dir} does not exist.`);
  }
  const p = path.resolve(root, rel);
  if (!p.startsWith(root + path.sep)) throw fail(`${what}: the path '${rel}' leaves the folder; refused.`);
  let real: string;
  try {
    real = fs.realpathSync(p);
  } catch {
    throw fail(`${what} is missing (${rel}).`);
  }
  if (!real.startsWith(root + path.sep))
    throw fail(`${what} (${rel}) is a link that leads outside the folder (to ${real}); refused.`);
  if (!fs.statSync(real).isFile()) throw fail(`${what} (${rel}) is not a regular file; refused.`);
  return real;
}

/** Parses a JSON file after checking its size (refused unread above `maxBytes`). */
export function readJsonCapped(file: string, maxBytes: number, what: string, fail: Fail): unknown {
  const size = fs.statSync(file).size;
  if (size > maxBytes)
    throw fail(
      `${what} is ${size.toLocaleString('en-US')} bytes, more than the ${maxBytes.toLocaleString('en-US')} it can reasonably take; refused unread.`,
    );
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw fail(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}
