// The one place a request from any transport enters the host: the name is checked against the
// contract, the payload is parsed with the call's schema, the handler runs, and every failure
// becomes a typed HostError envelope. Nothing a client sends can throw past this function.
import {
  calls,
  ERROR_CODES,
  isCallName,
  type CallName,
  type CallRes,
  type Envelope,
  type ErrorCode,
  type HostError,
} from '../contract';
import type { z } from 'zod';

/** Handlers receive the parsed (output) type of each call's request schema. */
export type Handlers = {
  [N in CallName]: (req: z.output<(typeof calls)[N]['req']>) => Promise<CallRes<N>> | CallRes<N>;
};

/** An error a handler may throw to choose the contract code the client sees. */
export class CallError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

/**
 * The one mapping from whatever a handler threw to the code the client sees:
 * - a CallError carries its code;
 * - the trainer's failures (TrainerError): `trainer_unavailable`, `timeout`, `disk_full`, `not_found`
 *   and `internal` pass through; `failed` (the trainer could not do it with what it was given: a layer
 *   a format cannot express, a damaged file) becomes `invalid_payload`;
 * - a file-system error in the host: ENOSPC/EDQUOT → `disk_full`, ENOENT → `not_found`,
 *   EACCES/EPERM → `forbidden`;
 * - anything else is `internal`.
 */
export function hostErrorCode(err: unknown): ErrorCode {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (err instanceof CallError) return err.code;
  if (code === 'failed') return 'invalid_payload';
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (code === 'ENOENT') return 'not_found';
  if (code === 'EACCES' || code === 'EPERM') return 'forbidden';
  if (typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code) && code !== 'unknown_call')
    return code as ErrorCode;
  return 'internal';
}

/** AE_CHECK_RESPONSES=1 (set by every test configuration): each answer is checked against its call's response schema too. */
const CHECK_RESPONSES = process.env.AE_CHECK_RESPONSES === '1';

const fail = (code: ErrorCode, message: string, issues?: HostError['issues']): Envelope<never> => ({
  ok: false,
  error: issues ? { code, message, issues } : { code, message },
});

export async function dispatch(handlers: Handlers, name: unknown, payload: unknown): Promise<Envelope> {
  if (!isCallName(name)) {
    return fail('unknown_call', `'${String(name).slice(0, 80)}' is not a call the studio knows.`);
  }
  const parsed = calls[name].req.safeParse(payload ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 20).map((i) => ({
      path: i.path.map(String).join('.') || '(payload)',
      message: i.message,
    }));
    return fail(
      'invalid_payload',
      `Invalid request for '${name}': ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  try {
    const handler = handlers[name] as (req: unknown) => unknown;
    const result = await handler(parsed.data);
    if (CHECK_RESPONSES) {
      const checked = calls[name].res.safeParse(result);
      if (!checked.success) {
        const i = checked.error.issues[0];
        return fail(
          'internal',
          `The answer to '${name}' does not match its schema (${i?.path.join('.') || 'result'}: ${i?.message}).`,
        );
      }
    }
    return { ok: true, result };
  } catch (err) {
    const message = (err as { message?: unknown } | undefined)?.message;
    return fail(hostErrorCode(err), typeof message === 'string' ? message : 'Unexpected error in the studio host.');
  }
}
