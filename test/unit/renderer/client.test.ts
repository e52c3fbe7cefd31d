// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { ApiError, createClient } from '../../../src-renderer/api/client';
import { FakeTransport, INFO } from './fake-host';

describe('api client', () => {
  it('unwraps ok envelopes', async () => {
    const t = new FakeTransport({ 'backend:info': () => ({ ok: true, result: INFO }) });
    expect(await createClient(t).invoke('backend:info', {})).toEqual(INFO);
    expect(t.calls).toEqual([{ name: 'backend:info', payload: {} }]);
  });

  it('throws ApiError with code and issues on error envelopes', async () => {
    const t = new FakeTransport({
      'trainer:ping': () => ({ ok: false, error: { code: 'invalid_payload', message: 'bad nonce', issues: [{ path: 'nonce', message: 'too long' }] } }),
    });
    const err = await createClient(t).invoke('trainer:ping', { nonce: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('invalid_payload');
    expect(err.message).toBe('bad nonce');
    expect(err.issues).toEqual([{ path: 'nonce', message: 'too long' }]);
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
