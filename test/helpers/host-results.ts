// Host calls in tests: the result of one that must succeed.
import { expect } from 'vitest';

/** The result of a host call that must succeed (the test fails with the answer when it did not). */
export function okResult<T>(r: unknown): T {
  expect((r as { ok: boolean }).ok, JSON.stringify(r).slice(0, 500)).toBe(true);
  return (r as { result: T }).result;
}
