// host/trainer.ts (`backend:info`, `trainer:ping`, `trainer:restart`) and how the host relays the
// trainer's state: against the REAL trainer process. The backend is tfjs-node's native one; a ping
// comes back with its nonce from the trainer's pid; a restart gives a new process; a trainer killed
// from outside becomes a `crashed` state and an error notice in plain words, and the next call
// starts a fresh one.
import { afterEach, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../../../src-main/contract';
import { hostInTemp, type TestHost } from './helpers';

let t: TestHost | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});
const states = (t: TestHost) =>
  t.events.filter(([n]) => n === 'trainer:state').map(([, p]) => (p as EventPayload<'trainer:state'>).state);

describe('the trainer calls', () => {
  it('reports the native backend, answers a ping from its process, and restarts into a new process', async () => {
    t = hostInTemp();
    const info = await t.ok('backend:info', {});
    expect(info).toMatchObject({ backend: 'tensorflow', tfjsVersion: expect.stringMatching(/^4\./) });
    expect(info.pid).not.toBe(process.pid);
    expect(await t.ok('trainer:ping', { nonce: 'hello' })).toMatchObject({ nonce: 'hello', pid: info.pid });
    expect((await t.refused('trainer:ping', { nonce: '' })).code).toBe('invalid_payload');

    const restarted = await t.ok('trainer:restart', {});
    expect(restarted).toMatchObject({ state: 'ready', info: { backend: 'tensorflow' } });
    expect(restarted.info?.pid).not.toBe(info.pid);
    expect((await t.ok('trainer:ping', { nonce: 'again' })).pid).toBe(restarted.info?.pid);
    expect(states(t)).toContain('ready');
  });

  it('turns a trainer killed from outside into a crashed state and an error notice; the next call starts a fresh trainer', async () => {
    t = hostInTemp();
    const { pid } = await t.ok('backend:info', {});
    process.kill(pid, 'SIGKILL');
    const started = Date.now();
    while (!states(t).includes('crashed') && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
    expect(states(t)).toContain('crashed');
    const notice = t.events.find(([n]) => n === 'app:notice')?.[1] as EventPayload<'app:notice'> | undefined;
    expect(notice).toMatchObject({ level: 'error', message: expect.stringMatching(/\w/) });
    expect(notice?.message).not.toMatch(/^\s*(undefined|\[object)/);
    const fresh = await t.ok('backend:info', {});
    expect(fresh.pid).not.toBe(pid);
  });
});
