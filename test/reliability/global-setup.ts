// Starts each `npm run test:reliability` with an empty results file.
import fs from 'node:fs';
import { RESULTS_DIR, RESULTS_FILE } from './record';

export default function setup(): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.rmSync(RESULTS_FILE, { force: true });
}
