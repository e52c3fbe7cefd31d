import { describe, expect, it } from 'vitest';
import { CALL_NAMES, EVENT_NAMES, calls, events, BackendInfo, TrainerState } from '../../../../src-main/contract';
import { dispatch, CallError, type Handlers } from '../../../../src-main/host/dispatch';

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

describe('host dispatch', () => {
  const handlers: Handlers = {
    'app:info': () => ({ name: 'Autoencoder Studio', version: '0.0.0', mode: 'serve', platform: 'linux-x64', nodeVersion: '20' }),
    'backend:info': () => ({ ...info }),
    'trainer:ping': ({ nonce }) => ({ nonce, pid: 1, uptimeMs: 5 }),
    'trainer:restart': () => {
      throw new CallError('trainer_unavailable', 'The trainer could not start.');
    },
    'runs:start': () => ({ runId: 'run-1' }),
    'runs:stop': () => ({ stopping: true }),
    'runs:resume': ({ runId }) => ({ runId }),
    'runs:list': () => [],
    'runs:update': () => {
      throw new CallError('internal', 'not in this test');
    },
    'runs:preview': () => null,
    'gallery:try': () => ({ shape: [28, 28, 1], results: [] }),
    'datasets:page': () => ({ total: 0, offset: 0, indices: [], labels: [], images: [], shape: [28, 28, 1] }),
    'datasets:removeImages': () => {
      throw new CallError('internal', 'not in this test');
    },
    'datasets:uploadDiscard': () => ({ discarded: false }),
    'datasets:list': () => [],
    'datasets:addBuiltin': () => {
      throw new CallError('internal', 'not in this test');
    },
    'datasets:preview': () => {
      throw new CallError('internal', 'not in this test');
    },
    'datasets:rename': () => {
      throw new CallError('internal', 'not in this test');
    },
    'datasets:delete': () => ({ deleted: true }),
    'datasets:import': () => ({ jobId: 'imp-1' }),
    'datasets:cancelImport': () => ({ cancelling: false }),
    'datasets:previewImport': () => ({ images: [], labels: [], shape: [28, 28, 1], skipped: 0 }),
    'gallery:triplets': () => ({ shape: [28, 28, 1], originals: [], noisy: [], reconstructions: [], mse: [], psnr: [], ssim: [] }),
    'gallery:samples': () => ({ shape: [28, 28, 1], images: [] }),
    'gallery:samplers': () => ({ shape: [28, 28, 1], chosen: null, samplers: [], measured: null }),
    'workspace:info': () => {
      throw new CallError('internal', 'not in this test');
    },
    'workspace:open': () => {
      throw new CallError('internal', 'not in this test');
    },
    'settings:set': () => ({ theme: 'system', maxConcurrentRuns: 2 }),
    'export:model': () => {
      throw new CallError('internal', 'not in this test');
    },
    'export:latents': () => {
      throw new CallError('internal', 'not in this test');
    },
    'export:gallery': () => {
      throw new CallError('internal', 'not in this test');
    },
    'export:list': () => [],
    'export:saveAs': () => ({ savedTo: null }),
    'models:import': () => ({ cancelled: true }),
    'jobs:export': () => {
      throw new CallError('internal', 'not in this test');
    },
    'jobs:import': () => ({ cancelled: true }),
    'models:speed': () => ({ rates: [], advice: null }),
    'gallery:worst': () => ({ shape: [28, 28, 1], originals: [], reconstructions: [], mse: [] }),
    'gallery:latent': () => ({ points: [], labels: [], labelNames: [], method: 'identity', explained: 1 }),
    'gallery:manifold': () => ({ shape: [28, 28, 1], images: [] }),
    'gallery:interpolate': () => ({ shape: [28, 28, 1], images: [] }),
    'evaluate:run': () => ({
      labelNames: [],
      shape: [28, 28, 1],
      counts: { total: 0, train: 0, scored: 0 },
      reconstruction: { count: 0, mse: 0, psnr: 0, ssim: 0 },
      perLabel: [],
      histogram: { lo: 0, hi: 1, bins: 1, perLabel: [] },
      edges: [0, 1],
      above: [0, 0],
      worst: { originals: [], reconstructions: [], mse: [], labels: [], indices: [] },
      csv: 'index,label,mse,anomalous\n',
    }),
    'noise:preview': () => ({ shape: [28, 28, 1], clean: [], noisy: [] }),
    'datasets:uploadBegin': () => ({ uploadId: 'up-0000000000000000' }),
    'datasets:uploadChunk': () => ({ bytes: 0 }),
  };

  it('runs a valid call', async () => {
    expect(await dispatch(handlers, 'trainer:ping', { nonce: 'n1' })).toEqual({ ok: true, result: { nonce: 'n1', pid: 1, uptimeMs: 5 } });
  });

  it('refuses unknown calls with a typed error', async () => {
    const r = await dispatch(handlers, 'fs:readFile', { path: '/etc/passwd' });
    expect(r).toMatchObject({ ok: false, error: { code: 'unknown_call' } });
    for (const name of [undefined, null, 42, {}, '__proto__', 'constructor', 'toString']) {
      expect(await dispatch(handlers, name, {})).toMatchObject({ ok: false, error: { code: 'unknown_call' } });
    }
  });

  it('refuses invalid payloads with field-level issues and never calls the handler', async () => {
    let called = false;
    const spy: Handlers = { ...handlers, 'trainer:ping': ({ nonce }) => ((called = true), { nonce, pid: 1, uptimeMs: 1 }) };
    for (const bad of [{ nonce: 5 }, { nonce: 'a', extra: true }, 'string', [1, 2], { nonce: 'y'.repeat(10_000) }, JSON.parse('{"__proto__":{"polluted":1},"nonce":"a"}')]) {
      const r = await dispatch(spy, 'trainer:ping', bad);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('invalid_payload');
        expect(r.error.issues?.length).toBeGreaterThan(0);
      }
    }
    expect(called).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('maps handler errors to their code, and unknown throws to internal', async () => {
    expect(await dispatch(handlers, 'trainer:restart', {})).toEqual({
      ok: false,
      error: { code: 'trainer_unavailable', message: 'The trainer could not start.' },
    });
    const boom: Handlers = {
      ...handlers,
      'app:info': () => {
        throw new TypeError('x is undefined');
      },
    };
    expect(await dispatch(boom, 'app:info', {})).toMatchObject({ ok: false, error: { code: 'internal' } });
  });
});

describe('runs contract', () => {
  const good = { config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 16, noise: { type: 'gaussian', level: 0.5 } }, dataset: { builtin: 'mnist', count: 2000 } };
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

describe('host error codes (one mapping in dispatch.ts)', () => {
  it('gives each kind of failure its own code', async () => {
    const { hostErrorCode, CallError } = await import('../../../../src-main/host/dispatch');
    const { TrainerError } = await import('../../../../src-main/trainer/supervisor');
    const errno = (code: string) => Object.assign(new Error(code), { code });
    expect(hostErrorCode(new CallError('conflict', 'busy'))).toBe('conflict');
    expect(hostErrorCode(new TrainerError('trainer_unavailable', 'gone'))).toBe('trainer_unavailable');
    expect(hostErrorCode(new TrainerError('timeout', 'slow'))).toBe('timeout');
    expect(hostErrorCode(new TrainerError('failed', "Layer 'bn' cannot be written as ONNX"))).toBe('invalid_payload');
    expect(hostErrorCode(new TrainerError('disk_full', 'ENOSPC'))).toBe('disk_full');
    expect(hostErrorCode(errno('ENOSPC'))).toBe('disk_full');
    expect(hostErrorCode(errno('EDQUOT'))).toBe('disk_full');
    expect(hostErrorCode(errno('ENOENT'))).toBe('not_found');
    expect(hostErrorCode(errno('EACCES'))).toBe('forbidden');
    expect(hostErrorCode(new TypeError('x is undefined'))).toBe('internal');
    expect(hostErrorCode(errno('unknown_call'))).toBe('internal');
    expect(hostErrorCode(undefined)).toBe('internal');
  });
});
