// fs-safety/atomic.ts, the one module for atomic writes: a reader in another process sees the old
// version or the new one, never half of one; a write that fails leaves the target as it was and no
// temporary behind; a crash between a folder's two renames leaves `.old`, which readableDir finds
// and the next write replaces. Real files in a temp folder.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  copyAtomic,
  readableDir,
  writeDirAtomic,
  writeFileAtomicAsync,
  writeFileAtomicWith,
  writeJsonAtomic,
} from '../../../../src-main/fs-safety/atomic';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-atomic-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
/** The folder's entries, temporaries included. */
const entries = (dir: string) => fs.readdirSync(dir).sort();

/**
 * Reads `file` in a loop in another process until `stop` appears, and reports every read that was
 * not a whole version: a JSON object `{ v, fill }` whose fill is 200,000 copies of one letter.
 */
function reader(file: string, stop: string): Promise<{ reads: number; bad: string[] }> {
  const code = `
    const fs = require('node:fs');
    const [file, stop] = process.argv.slice(1);
    let reads = 0; const bad = [];
    fs.writeFileSync(stop + '.ready', '');
    while (!fs.existsSync(stop)) {
      let text;
      try { text = fs.readFileSync(file, 'utf8'); } catch (e) { bad.push('unreadable: ' + e.code); continue; }
      reads++;
      try {
        const o = JSON.parse(text);
        if (o.fill.length !== 200000 || o.fill !== o.fill[0].repeat(200000)) bad.push('mixed version ' + o.v);
      } catch { bad.push('half a file: ' + text.length + ' characters'); }
    }
    process.stdout.write(JSON.stringify({ reads, bad: bad.slice(0, 5) }));`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', code, file, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('exit', () => resolve(JSON.parse(out)));
  });
}
const version = (v: number) => ({ v, fill: String.fromCharCode(65 + (v % 26)).repeat(200_000) });

describe('atomic writes', () => {
  it('a reader in another process sees whole versions only, while a file is rewritten again and again', async () => {
    const dir = tmp();
    const file = path.join(dir, 'state.json');
    const stop = path.join(dir, 'stop');
    writeJsonAtomic(file, version(0));
    const reading = reader(file, stop);
    for (const t0 = Date.now(); !fs.existsSync(`${stop}.ready`) && Date.now() - t0 < 30_000;)
      await new Promise((r) => setTimeout(r, 10));
    const until = Date.now() + 1000;
    let v = 1;
    for (; Date.now() < until; v++) {
      if (v % 2) writeJsonAtomic(file, version(v));
      else await writeFileAtomicAsync(file, JSON.stringify(version(v)));
      await new Promise((r) => setImmediate(r));
    }
    fs.writeFileSync(stop, '');
    const { reads, bad } = await reading;
    expect(bad).toEqual([]);
    expect(reads).toBeGreaterThan(10);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).v).toBe(v - 1);
    expect(entries(dir)).toEqual(['state.json', 'stop', 'stop.ready']); // no temporaries left
  });

  it('a write that fails leaves the old version and no temporary', async () => {
    const dir = tmp();
    const file = path.join(dir, 'settings.json');
    writeJsonAtomic(file, { theme: 'dark' });
    expect(() => writeJsonAtomic(file, { big: 1n })).toThrow(/BigInt/);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ theme: 'dark' });

    const image = path.join(dir, 'grid.png');
    fs.writeFileSync(image, 'old picture');
    await expect(
      writeFileAtomicWith(image, (t) => {
        fs.writeFileSync(t, 'half of a new pict');
        throw new Error('the encoder failed');
      }),
    ).rejects.toThrow('the encoder failed');
    expect(fs.readFileSync(image, 'utf8')).toBe('old picture');
    await writeFileAtomicWith(image, (t) => fs.writeFileSync(t, 'new picture'));
    expect(fs.readFileSync(image, 'utf8')).toBe('new picture');
    expect(entries(dir)).toEqual(['grid.png', 'settings.json']);
  });

  it('a folder is replaced whole; a fill that fails leaves the old folder and no temporary', async () => {
    const dir = tmp();
    const ckpt = path.join(dir, 'checkpoint');
    await writeDirAtomic(ckpt, async (t) => {
      fs.writeFileSync(path.join(t, 'weights.bin'), 'epoch 1');
      fs.mkdirSync(path.join(t, 'optimizer'));
      fs.writeFileSync(path.join(t, 'optimizer', 'state.json'), '{"epoch":1}');
    });
    await expect(
      writeDirAtomic(ckpt, async (t) => {
        fs.writeFileSync(path.join(t, 'weights.bin'), 'epoch 2, half');
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      }),
    ).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(fs.readFileSync(path.join(ckpt, 'weights.bin'), 'utf8')).toBe('epoch 1');
    expect(fs.readFileSync(path.join(ckpt, 'optimizer', 'state.json'), 'utf8')).toBe('{"epoch":1}');
    await writeDirAtomic(ckpt, async (t) => fs.writeFileSync(path.join(t, 'weights.bin'), 'epoch 2'));
    expect(entries(ckpt)).toEqual(['weights.bin']); // the old folder's files are gone with it
    expect(fs.readFileSync(path.join(ckpt, 'weights.bin'), 'utf8')).toBe('epoch 2');
    expect(entries(dir)).toEqual(['checkpoint']);
  });

  it('copies a file or a folder whole; a copy that fails leaves the destination as it was', async () => {
    const dir = tmp();
    const src = path.join(dir, 'export');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'model.json'), '{}');
    fs.writeFileSync(path.join(src, 'weights.bin'), 'w');
    const dest = path.join(dir, 'saved');
    fs.writeFileSync(dest, 'what the user had there');
    await expect(copyAtomic(path.join(dir, 'missing'), dest)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(fs.readFileSync(dest, 'utf8')).toBe('what the user had there');
    await copyAtomic(src, dest);
    expect(entries(dest)).toEqual(['model.json', 'weights.bin']);
    expect(entries(dir)).toEqual(['export', 'saved']);
  });
});

describe('readableDir', () => {
  it('is the folder, else the .old copy a crash between the two renames left, else undefined', async () => {
    const dir = tmp();
    const ckpt = path.join(dir, 'checkpoint');
    expect(readableDir(ckpt)).toBeUndefined();
    await writeDirAtomic(ckpt, async (t) => fs.writeFileSync(path.join(t, 'state.json'), '{"epochsDone":3}'));
    expect(readableDir(ckpt)).toBe(ckpt);
    // a crash after `checkpoint` became `checkpoint.old` and before the new folder took its name
    fs.renameSync(ckpt, `${ckpt}.old`);
    expect(readableDir(ckpt)).toBe(`${ckpt}.old`);
    expect(fs.readFileSync(path.join(readableDir(ckpt)!, 'state.json'), 'utf8')).toBe('{"epochsDone":3}');
    // the next write puts the new folder in place and only then drops the old copy
    await writeDirAtomic(ckpt, async (t) => fs.writeFileSync(path.join(t, 'state.json'), '{"epochsDone":4}'));
    expect(readableDir(ckpt)).toBe(ckpt);
    expect(entries(dir)).toEqual(['checkpoint']);
    expect(fs.readFileSync(path.join(ckpt, 'state.json'), 'utf8')).toBe('{"epochsDone":4}');
  });
});
