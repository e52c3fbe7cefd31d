// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { ApiError, createClient, describeError } from '../../../../src-renderer/api/client';
import { FakeTransport, INFO } from '../fake-host';

describe('api client', () => {
  it('unwraps ok envelopes', async () => {
    const t = new FakeTransport({ 'backend:info': () => ({ ok: true, result: INFO }) });
    expect(await createClient(t).invoke('backend:info', {})).toEqual(INFO);
    expect(t.calls).toEqual([{ name: 'backend:info', payload: {} }]);
  });

  it('throws ApiError with code and issues on error envelopes', async () => {
    const t = new FakeTransport({
      'trainer:ping': () => ({
        ok: false,
        error: { code: 'invalid_payload', message: 'bad nonce', issues: [{ path: 'nonce', message: 'too long' }] },
      }),
    });
    const err = await createClient(t)
      .invoke('trainer:ping', { nonce: 'x' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('invalid_payload');
    expect(err.message).toBe('bad nonce');
    expect(err.issues).toEqual([{ path: 'nonce', message: 'too long' }]);
  });

  it('words errors per code, without repeating what the message already says', () => {
    const e = (code: ConstructorParameters<typeof ApiError>[0]['code'], message: string) =>
      describeError(new ApiError({ code, message }));
    expect(e('disk_full', 'exports/x could not be written (ENOSPC)')).toBe(
      'The disk is full: exports/x could not be written (ENOSPC)',
    );
    expect(e('disk_full', 'The run stopped: the disk is full.')).toBe('The run stopped: the disk is full.');
    expect(e('internal', 'x is undefined')).toBe('Something went wrong inside the studio: x is undefined');
    expect(e('not_found', "There is no run 'r1'.")).toBe("There is no run 'r1'.");
    expect(e('disconnected', 'The connection to the studio host was lost. Reconnecting…')).toBe(
      'The connection to the studio host was lost. Reconnecting…',
    );
    expect(describeError(new Error('plain'))).toBe('plain');
  });

  it('subscribes and unsubscribes to events', () => {
    const t = new FakeTransport();
    const got: unknown[] = [];
    const off = createClient(t).on('app:notice', (n) => got.push(n.message));
    t.emit('app:notice', { level: 'info', message: 'one', at: 1 });
    off();
    t.emit('app:notice', { level: 'info', message: 'two', at: 2 });
    expect(got).toEqual(['one']);
    expect(t.listenerCount('app:notice')).toBe(0);
  });
});
