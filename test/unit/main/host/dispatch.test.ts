// host/dispatch.ts, the one place a request enters the host: unknown names and invalid payloads
// are refused before any handler runs, handler failures map to the contract's error codes, and
// (under AE_CHECK_RESPONSES=1, which the test configuration sets) an answer that does not match its
// call's response schema is refused as internal. The handlers here are plain functions; the real
// services are tested through createHost in the other files of this folder.
import { describe, expect, it } from 'vitest';
import { dispatch, CallError, type Handlers } from '../../../../src-main/host/dispatch';

const info = { backend: 'tensorflow', tfVersion: '2.21.0', tfjsVersion: '4.22.0', threads: 2, pid: 42 } as const;

describe('host dispatch', () => {
  const handlers: Handlers = {
    'app:info': () => ({
      name: 'Autoencoder Studio',
      version: '0.0.0',
      mode: 'serve',
      platform: 'linux-x64',
      nodeVersion: '20',
    }),
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
    'runs:batchLoss': () => ({ x: [], y: [] }),
    'gallery:try': () => ({ shape: [28, 28, 1], results: [] }),
    'inspect:images': () => {
      throw new Error('unused');
    },
    'inspect:calibrate': () => {
      throw new Error('unused');
    },
    'inspect:threshold': () => ({ value: 0, method: 'manual' as const }),
    'inspect:try': () => ({
      shape: [28, 28, 1] as [number, number, number],
      threshold: 0,
      mapRange: [0, 1] as [number, number],
      results: [],
    }),
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
    'gallery:triplets': () => ({
      shape: [28, 28, 1],
      originals: [],
      noisy: [],
      reconstructions: [],
      mse: [],
      psnr: [],
      ssim: [],
    }),
    'gallery:samples': () => ({ shape: [28, 28, 1], images: [] }),
    'gallery:samplers': () => ({ shape: [28, 28, 1], chosen: null, samplers: [], measured: null }),
    'gallery:chooseSampler': () => ({ chosen: 'full', description: 'full-covariance Gaussian', fittedOn: 10 }),
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
    'jobs:progress': () => ({
      name: 'j',
      status: 'waiting',
      startEpoch: 0,
      epochsDone: 0,
      targetEpoch: 1,
      loss: [],
      valLoss: [],
      samplesPerSec: null,
      workers: null,
      etaSec: null,
      message: null,
      line: '',
    }),
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
    expect(await dispatch(handlers, 'trainer:ping', { nonce: 'n1' })).toEqual({
      ok: true,
      result: { nonce: 'n1', pid: 1, uptimeMs: 5 },
    });
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
    const spy: Handlers = {
      ...handlers,
      'trainer:ping': ({ nonce }) => ((called = true), { nonce, pid: 1, uptimeMs: 1 }),
    };
    for (const bad of [
      { nonce: 5 },
      { nonce: 'a', extra: true },
      'string',
      [1, 2],
      { nonce: 'y'.repeat(10_000) },
      JSON.parse('{"__proto__":{"polluted":1},"nonce":"a"}'),
    ]) {
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

  it("refuses an answer that does not match its call's response schema, naming the field", async () => {
    expect(process.env.AE_CHECK_RESPONSES).toBe('1');
    const wrong = {
      ...handlers,
      'trainer:ping': () => ({ nonce: 'n', pid: 'one', uptimeMs: 1 }),
    } as unknown as Handlers;
    const r = await dispatch(wrong, 'trainer:ping', { nonce: 'n' });
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: 'internal',
        message: expect.stringMatching(/^The answer to 'trainer:ping' does not match its schema \(pid: /),
      },
    });
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
