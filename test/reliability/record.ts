// Each reliability test records its own outcome here (one JSON line per item); the reporter
// (reporter.ts) sums them into the table `npm run test:reliability` prints.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/trainer';

export const RESULTS_DIR = path.join(repoRoot, 'test-results', 'reliability');
export const RESULTS_FILE = path.join(RESULTS_DIR, 'results.jsonl');

export type Category = 'fault' | 'hostile' | 'security';

export interface Outcome {
  category: Category;
  /** What was tried, in a few words. */
  item: string;
  /** How many times / payloads / checks. */
  tried: number;
  /** Faults survived, or hostile inputs refused cleanly, or security checks passed. */
  ok: number;
  /** Items of data found lost or corrupted (must be 0). */
  dataLost: number;
  note?: string;
}

export function record(o: Outcome): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.appendFileSync(RESULTS_FILE, `${JSON.stringify(o)}\n`);
}

/**
 * Counts one item's attempts: `attempt(fn)` runs one try and counts it as ok when fn returns
 * without throwing; `lost()` counts lost data; `done()` (call in a finally) records the totals.
 */
export function tally(category: Category, item: string) {
  const t = { tried: 0, ok: 0, dataLost: 0, note: undefined as string | undefined };
  return {
    async attempt<T>(fn: () => Promise<T> | T): Promise<T> {
      t.tried++;
      const v = await fn();
      t.ok++;
      return v;
    },
    /** The synchronous twin of attempt(). */
    check(fn: () => unknown): void {
      t.tried++;
      fn();
      t.ok++;
    },
    lost(n = 1) {
      t.dataLost += n;
    },
    note(s: string) {
      t.note = s;
    },
    get counts() {
      return { ...t };
    },
    done() {
      record({ category, item, ...t });
    },
  };
}
