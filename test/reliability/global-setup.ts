// Starts each `npm run test:reliability` with an empty results file, and removes the temp folders
// (os.tmpdir()/ae-rel-*) this run made when it ends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RESULTS_DIR, RESULTS_FILE } from './record';

export default function setup(): () => void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.rmSync(RESULTS_FILE, { force: true });
  const started = Date.now() - 1000;
  return () => {
    for (const name of fs.readdirSync(os.tmpdir())) {
      if (!name.startsWith('ae-rel-')) continue;
      const p = path.join(os.tmpdir(), name);
      try {
        if (fs.lstatSync(p).birthtimeMs >= started) fs.rmSync(p, { recursive: true, force: true });
      } catch {
        // in use or gone: left for the OS
      }
    }
  };
}
