// The REAL trainer process: tfjs-node's native backend, typed requests, malformed messages,
// and a SIGKILL turned into an error event by the host.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import type { TrainerState, Notice } from '../../src-main/contract';
import { createTestSupervisor, waitFor } from '../helpers/trainer';
import type { TrainerSupervisor } from '../../src-main/trainer/supervisor';

let trainer: TrainerSupervisor | undefined;
let host: Host | undefined;
afterEach(async () => {
  await host?.dispose();
  await trainer?.stop();
  host = trainer = undefined;
});

describe('trainer process', () => {
  it('starts and reports the native tensorflow backend', async () => {
    trainer = createTestSupervisor();
    const info = await trainer.start();
    expect(info.backend).toBe('tensorflow');
    expect(info.tfVersion).toMatch(/^2\.\d+/);
    expect(info.threads).toBeGreaterThan(0);
    expect(info.pid).toBe(trainer.pid);
    expect(info.pid).not.toBe(process.pid);
    expect(trainer.state.state).toBe('ready');
  });

  it('survives malformed messages and keeps answering', async () => {
    trainer = createTestSupervisor();
    await trainer.start();
    const errors: string[] = [];
    trainer.on('protocol-error', (m) => errors.push(m));
    for (const junk of [
      null,
      42,
      'hello',
      { type: 'request' },
      { type: 'request', id: -1, method: 'ping' },
      { type: 'nope' },
      [1, 2, 3],
    ]) {
      trainer.sendRaw(junk);
    }
    // A request for a method the trainer does not have is answered, not fatal.
    trainer.sendRaw({ type: 'request', id: 999_999, method: 'rm -rf', params: {} });
    const pong = await trainer.request('ping', { nonce: 'still-alive' });
    expect(pong.nonce).toBe('still-alive');
    expect(pong.pid).toBe(trainer.pid);
    await new Promise((r) => setTimeout(r, 100));
    expect(errors.length).toBe(7);
    expect(errors[0]).toMatch(/malformed message/);
    expect(trainer.state.state).toBe('ready');
  });

  it('turns a killed trainer into an error event; the host stays up and can restart it', async () => {
    trainer = createTestSupervisor();
    host = createHost({
      mode: 'serve',
      version: 'test',
      trainer,
      workspaceDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ae-ws-')),
    });
    const ready = await host.dispatch('backend:info', {});
    expect(ready).toMatchObject({ ok: true, result: { backend: 'tensorflow' } });
    const pid = trainer.pid as number;

    const events: Array<[string, unknown]> = [];
    host.subscribe((name, payload) => events.push([name, payload]));
    const crashed = waitFor<TrainerState>((cb) => host!.subscribe(cb as never), ((name: string, p: TrainerState) =>
      name === 'trainer:state' && p.state === 'crashed' ? p : undefined) as never);
    // A request in flight when the process dies is rejected with a typed error, not left hanging.
    // The trainer is frozen first (SIGSTOP) so it cannot answer before it is killed.
    process.kill(pid, 'SIGSTOP');
    const inFlight = trainer.request('ping', { nonce: 'x' }, 10_000).then(
      () => 'answered',
      (e: { code?: string }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 200));
    process.kill(pid, 'SIGKILL');
    const state = await crashed;
    expect(state.error).toMatch(/killed \(SIGKILL\)/);
    expect(await inFlight).toBe('trainer_unavailable');
    const notice = events.find(([n]) => n === 'app:notice')?.[1] as Notice;
    expect(notice.level).toBe('error');
    expect(notice.message).toMatch(/SIGKILL/);

    // The host still answers calls that need no trainer...
    expect(await host.dispatch('app:info', {})).toMatchObject({ ok: true, result: { mode: 'serve' } });
    // ...and a restart brings a new trainer process.
    const restarted = await host.dispatch('trainer:restart', {});
    expect(restarted).toMatchObject({ ok: true, result: { state: 'ready', starts: 2 } });
    expect(trainer.pid).not.toBe(pid);
    expect(await host.dispatch('trainer:ping', { nonce: 'again' })).toMatchObject({
      ok: true,
      result: { nonce: 'again' },
    });
  });

  it('reports a trainer that cannot start as crashed with the reason', async () => {
    const { TrainerSupervisor, forkSpawner } = await import('../../src-main/trainer/supervisor');
    trainer = new TrainerSupervisor({ spawn: forkSpawner('/nonexistent/trainer.cjs') });
    await expect(trainer.start()).rejects.toMatchObject({ code: 'trainer_unavailable' });
    expect(trainer.state.state).toBe('crashed');
    expect(trainer.state.error).toMatch(/exited with code 1/);
  });
});
