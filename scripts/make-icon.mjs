#!/usr/bin/env node
// Draws assets/icon.png (512x512): the autoencoder "bottleneck" — two trapezoids meeting at a
// narrow code — on a rounded square. Run once; the PNG is committed.
import fs from 'node:fs';
import zlib from 'node:zlib';

const S = 512;
const px = Buffer.alloc(S * S * 4);
const inRounded = (x, y, r = 96) => {
  const cx = Math.min(Math.max(x, r), S - 1 - r),
    cy = Math.min(Math.max(y, r), S - 1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
for (let y = 0; y < S; y++)
  for (let x = 0; x < S; x++) {
    const i = (y * S + x) * 4;
    if (!inRounded(x, y)) continue;
    const t = (x + y) / (2 * S);
    let [r, g, b] = [Math.round(40 + 30 * t), Math.round(60 + 40 * t), Math.round(140 + 60 * t)];
    // encoder (left) narrows to the code at the centre, decoder (right) widens again
    const half = 160 - 130 * (1 - Math.abs(x - 256) / 176);
    const inShape = x > 80 && x < 432 && Math.abs(y - 256) < half && Math.abs(x - 256) > 14;
    const code = Math.abs(x - 256) <= 10 && Math.abs(y - 256) <= 30;
    if (inShape) [r, g, b] = x < 256 ? [120, 220, 255] : [255, 190, 110];
    if (code) [r, g, b] = [255, 255, 255];
    px[i] = r;
    px[i + 1] = g;
    px[i + 2] = b;
    px[i + 3] = 255;
  }
const raw = Buffer.alloc((S * 4 + 1) * S);
for (let y = 0; y < S; y++) px.copy(raw, y * (S * 4 + 1) + 1, y * S * 4, (y + 1) * S * 4);
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(S, 0);
ihdr.writeUInt32BE(S, 4);
ihdr[8] = 8;
ihdr[9] = 6;
fs.writeFileSync(
  new URL('../assets/icon.png', import.meta.url),
  Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]),
);
console.log('wrote assets/icon.png');
