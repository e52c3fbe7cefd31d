// The one place a request from any transport enters the host: the name is checked against the
// contract, the payload is parsed with the call's schema, the handler runs, and every failure
// becomes a typed HostError envelope. Nothing a client sends can throw past this function.
import { calls, isCallName, type CallName, type CallRes, type Envelope, type ErrorCode, type HostError } from '../contract';
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
    return fail('invalid_payload', `Invalid request for '${name}': ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  try {
    const handler = handlers[name] as (req: unknown) => unknown;
    const result = await handler(parsed.data);
    return { ok: true, result };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const code: ErrorCode =
      e && typeof e.code === 'string' && ['trainer_unavailable', 'timeout', 'forbidden', 'invalid_payload', 'internal'].includes(e.code)
        ? (e.code as ErrorCode)
        : 'internal';
    return fail(code, typeof e?.message === 'string' ? e.message : 'Unexpected error in the studio host.');
  }
}
