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

/** Resolves when the host's events (as a test collects them) say the run completed; rejects when it failed or took over `timeoutMs`. */
export function runCompleted(
  events: ReadonlyArray<[string, unknown]>,
  runId: string,
  timeoutMs = 180_000,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const end = events.find(
        ([n, p]) =>
          n === 'runs:status' &&
          (p as { runId: string }).runId === runId &&
          ['completed', 'failed'].includes((p as { status: string }).status),
      );
      if (end)
        return (end[1] as { status: string }).status === 'completed'
          ? resolve()
          : reject(new Error(JSON.stringify(end[1])));
      if (Date.now() - started > timeoutMs) return reject(new Error('the run never finished'));
      setTimeout(tick, 100);
    };
    tick();
  });
}
