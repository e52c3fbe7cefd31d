// Real photographs for tests: the sample pictures shipped inside scikit-image's wheel on the local
// pip index (astronaut, coffee, chelsea the cat, rocket, …; PNG, JPEG, GIF), extracted once into a
// cache folder. They go through the studio's real import pipeline like a user's folder would.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { localIndexes } from './pyenv';

/** The folder holding the pictures (extracted on first use); a plain error when no wheel is on the local index. */
export function samplePhotosDir(): string {
  const dir = path.join(process.env.AE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'ae-studio'), 'skimage-photos');
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  let wheel: string | undefined;
  for (const u of localIndexes()) {
    if (!u.startsWith('file://')) continue;
    const index = path.join(fileURLToPath(u), 'scikit-image', 'index.html');
    if (!fs.existsSync(index)) continue;
    const href = /href="([^"#]+\.whl)/.exec(fs.readFileSync(index, 'utf8'))?.[1];
    if (href) wheel = path.resolve(path.dirname(index), href);
    if (wheel && fs.existsSync(wheel)) break;
  }
  if (!wheel || !fs.existsSync(wheel))
    throw new Error(
      'Sample photos: no scikit-image wheel on the local pip index (its sample pictures are the test photographs).',
    );
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.mkdirSync(tmp, { recursive: true });
  execFileSync('python3', [
    '-c',
    `
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if n.startswith('skimage/data/') and n.lower().endswith(('.png', '.jpg', '.jpeg', '.gif')):
        open(os.path.join(sys.argv[2], os.path.basename(n)), 'wb').write(z.read(n))
`,
    wheel,
    tmp,
  ]);
  fs.writeFileSync(path.join(tmp, '.complete'), wheel);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}
