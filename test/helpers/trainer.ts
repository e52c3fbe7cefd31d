// Starts the REAL trainer process from source (tsx loader), as the host would.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrainerSupervisor, forkSpawner } from '../../src-main/trainer/supervisor';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const trainerEntry = path.join(repoRoot, 'src-main', 'trainer', 'entry.ts');

export function createTestSupervisor(
  opts: { readyTimeoutMs?: number; requestTimeoutMs?: number } = {},
): TrainerSupervisor {
  return new TrainerSupervisor({ spawn: forkSpawner(trainerEntry, { execArgv: ['--import', 'tsx'] }), ...opts });
}

/** Resolves with the first value `pick` returns (not undefined) for an emitted event. */
export function waitFor<T>(
  subscribe: (cb: (...args: never[]) => void) => () => void,
  pick: (...args: never[]) => T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const off = subscribe((...args) => {
      const v = pick(...args);
      if (v !== undefined) {
        clearTimeout(timer);
        off();
        resolve(v);
      }
    });
  });
}
