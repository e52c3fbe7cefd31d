// The contract's schemas: one for every call and event name, good payloads accepted, bad ones
// refused (strict objects, bounded strings, the native backend only), run requests with defaults.
import { describe, expect, it } from 'vitest';
import { CALL_NAMES, EVENT_NAMES, calls, events, BackendInfo, TrainerState } from '../../../../src-main/contract';

const info = { backend: 'tensorflow', tfVersion: '2.21.0', tfjsVersion: '4.22.0', threads: 2, pid: 42 } as const;

describe('contract schemas', () => {
  it('declares a schema for every name and no extra ones', () => {
    expect(Object.keys(calls).sort()).toEqual([...CALL_NAMES].sort());
    expect(Object.keys(events).sort()).toEqual([...EVENT_NAMES].sort());
  });

  it('accepts good payloads', () => {
    expect(calls['app:info'].req.safeParse({}).success).toBe(true);
    expect(calls['trainer:ping'].req.safeParse({ nonce: 'abc' }).success).toBe(true);
    expect(BackendInfo.safeParse(info).success).toBe(true);
    expect(TrainerState.safeParse({ state: 'ready', info, starts: 1, at: Date.now() }).success).toBe(true);
    expect(events['app:notice'].safeParse({ level: 'error', message: 'x', at: 1 }).success).toBe(true);
  });

  it('rejects bad payloads', () => {
    expect(calls['app:info'].req.safeParse({ extra: 1 }).success).toBe(false); // strict: unknown keys refused
    expect(calls['trainer:ping'].req.safeParse({}).success).toBe(false);
    expect(calls['trainer:ping'].req.safeParse({ nonce: 7 }).success).toBe(false);
    expect(calls['trainer:ping'].req.safeParse({ nonce: 'x'.repeat(65) }).success).toBe(false);
    expect(calls['trainer:ping'].req.safeParse({ nonce: '' }).success).toBe(false);
    expect(BackendInfo.safeParse({ ...info, backend: 'cpu' }).success).toBe(false); // the pure-JS backend is not acceptable
    expect(TrainerState.safeParse({ state: 'exploded', starts: 0, at: 1 }).success).toBe(false);
    expect(events['app:notice'].safeParse({ level: 'fatal', message: 'x', at: 1 }).success).toBe(false);
  });
});

describe('runs contract', () => {
  const good = {
    config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 16, noise: { type: 'gaussian', level: 0.5 } },
    dataset: { builtin: 'mnist', count: 2000 },
  };
  it('accepts a run request and fills defaults', () => {
    const r = calls['runs:start'].req.safeParse(good);
    expect(r.success).toBe(true);
    if (r.success) expect(r.data.config).toMatchObject({ optimizer: 'adam', learningRate: 1e-3, epochs: 5 });
  });
  it('rejects bad run requests', () => {
    const bad = (patch: object) => calls['runs:start'].req.safeParse({ ...good, ...patch }).success;
    expect(bad({ dataset: { builtin: 'imagenet' } })).toBe(false);
    expect(bad({ dataset: { builtin: 'mnist', count: 10 } })).toBe(false);
    expect(bad({ config: { ...good.config, kind: 'gan' } })).toBe(false);
    expect(bad({ config: { ...good.config, inputShape: [28, 28] } })).toBe(false);
    expect(bad({ config: { ...good.config, epochs: 1.5 } })).toBe(false);
    expect(bad({ config: { ...good.config, noise: { type: 'gaussian', level: 5 } } })).toBe(false);
    expect(calls['runs:stop'].req.safeParse({ runId: '../../etc/passwd' }).success).toBe(false);
    expect(calls['runs:stop'].req.safeParse({ runId: 'run-20261124-000000-abcd' }).success).toBe(true);
  });
});

describe('gallery:chooseSampler', () => {
  const req = calls['gallery:chooseSampler'].req;
  const runId = 'run-20261206-000000-abcd';
  it('takes a run and one of the five samplers, nothing else', () => {
    for (const sampler of ['prior', 'diagonal', 'full', 'gmm', 'two-stage'])
      expect(req.safeParse({ runId, sampler }).success).toBe(true);
    expect(req.safeParse({ runId, sampler: 'best' }).success).toBe(false);
    expect(req.safeParse({ runId }).success).toBe(false);
    expect(req.safeParse({ runId, sampler: 'gmm', count: 3 }).success).toBe(false); // strict
    expect(req.safeParse({ runId: '../x', sampler: 'gmm' }).success).toBe(false);
    const res = calls['gallery:chooseSampler'].res;
    expect(res.safeParse({ chosen: 'gmm', description: 'Gaussian mixture (EM), k = 4', fittedOn: 900 }).success).toBe(
      true,
    );
    expect(res.safeParse({ chosen: 'gmm', description: 'x', fittedOn: -1 }).success).toBe(false);
  });
});
