// Runs end to end through the host and the REAL trainer process: events stream, stop and resume
// work, and a SIGKILLed trainer fails the run with a clear message; resume continues from the
// last checkpoint in a fresh trainer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import type { EventName, RunEventPayload, RunStatusPayload, RunSummary } from '../../src-main/contract';
import { createTestSupervisor } from '../helpers/trainer';
import type { TrainerSupervisor } from '../../src-main/trainer/supervisor';

let trainer: TrainerSupervisor;
let host: Host;
let workspace: string;
let events: Array<[EventName, unknown]>;

beforeEach(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-runs-'));
  trainer = createTestSupervisor();
  host = createHost({ mode: 'serve', version: 'test', trainer, workspaceDir: workspace });
  events = [];
  host.subscribe((name, payload) => events.push([name, payload]));
});
afterEach(async () => {
  await host.dispose();
});

const runEvents = (runId: string) =>
  events
    .filter(([n, p]) => n === 'runs:event' && (p as RunEventPayload).runId === runId)
    .map(([, p]) => (p as RunEventPayload).event);
function waitStatus(
  runId: string,
  status: RunStatusPayload['status'],
  after = 0,
  timeoutMs = 90_000,
): Promise<RunStatusPayload> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const hit = events
        .slice(after)
        .find(
          ([n, p]) =>
            n === 'runs:status' && (p as RunStatusPayload).runId === runId && (p as RunStatusPayload).status === status,
        );
      if (hit) return resolve(hit[1] as RunStatusPayload);
      if (Date.now() - started > timeoutMs)
        return reject(
          new Error(
            `run ${runId} never became ${status}: ${JSON.stringify(events.filter(([n]) => n === 'runs:status'))}`,
          ),
        );
      setTimeout(tick, 50);
    };
    tick();
  });
}
const waitEvent = (runId: string, pred: (e: RunEventPayload['event']) => boolean, timeoutMs = 60_000) =>
  new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const tick = () =>
      runEvents(runId).some(pred)
        ? resolve()
        : Date.now() - started > timeoutMs
          ? reject(new Error('event never came'))
          : setTimeout(tick, 25);
    tick();
  });

const dense = { kind: 'dense', inputShape: [28, 28, 1], latentDim: 32, batchSize: 100, previewEvery: 5 } as const;

async function start(config: object, count = 1000): Promise<string> {
  const r = await host.dispatch('runs:start', { config, dataset: { builtin: 'mnist', count } });
  expect(r.ok, JSON.stringify(r)).toBe(true);
  return (r as { ok: true; result: { runId: string } }).result.runId;
}

describe('runs through the host and the trainer process', () => {
  it('trains a dense AE on built-in MNIST and streams loss, previews and checkpoints', async () => {
    const runId = await start({ ...dense, epochs: 2 });
    expect(runId).toMatch(/^run-\d{8}-\d{6}-[0-9a-f]{4}$/);
    const done = await waitStatus(runId, 'completed');
    expect(done.epochsDone).toBe(2);
    const ev = runEvents(runId);
    expect(ev.filter((e) => e.type === 'epoch').length).toBe(2);
    expect(ev.some((e) => e.type === 'batch' && e.samplesPerSec > 0 && e.etaSec >= 0)).toBe(true);
    const preview = ev.find((e) => e.type === 'preview');
    expect(preview && preview.type === 'preview' && Buffer.from(preview.reconstructions[0], 'base64').length).toBe(784);
    expect(ev.filter((e) => e.type === 'checkpoint').length).toBe(2);
    const list = await host.dispatch('runs:list', {});
    const run = (list as { ok: true; result: RunSummary[] }).result[0];
    expect(run).toMatchObject({ runId, status: 'completed', epochsDone: 2 });
    expect(run.history.loss[1]).toBeLessThan(run.history.loss[0]);
    expect(fs.existsSync(path.join(workspace, 'runs', runId, 'model', 'decoder', 'model.json'))).toBe(true);
  });

  it('refuses invalid configs at the host, and reports configs that do not fit the dataset as a failed run', async () => {
    const bad = await host.dispatch('runs:start', {
      config: { ...dense, latentDim: 0 },
      dataset: { builtin: 'mnist', count: 1000 },
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect(!bad.ok && bad.error.issues?.[0].path).toBe('config.latentDim');
    const runId = await start({ ...dense, batchSize: 5000, epochs: 1 });
    const failed = await waitStatus(runId, 'failed');
    expect(failed.message).toMatch(/batchSize: the batch \(5000\) is larger than the training data/);
    expect(await host.dispatch('runs:stop', { runId: '../../etc' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });

  it('stops on request and resumes from the checkpoint', async () => {
    const runId = await start({ ...dense, epochs: 3 }, 2000);
    await waitEvent(runId, (e) => e.type === 'checkpoint' && e.epoch === 1);
    expect(await host.dispatch('runs:stop', { runId })).toMatchObject({ ok: true, result: { stopping: true } });
    const stopped = await waitStatus(runId, 'stopped');
    expect(stopped.epochsDone).toBeGreaterThanOrEqual(1);
    const beforeResume =
      ((await host.dispatch('runs:list', {})) as { ok: true; result: RunSummary[] }).result.find(
        (r) => r.runId === runId,
      )!.elapsedSec ?? 0;
    const mark = events.length;
    expect(await host.dispatch('runs:resume', { runId })).toMatchObject({ ok: true });
    const done = await waitStatus(runId, 'completed', mark);
    expect(done.epochsDone).toBe(3);
    const epochsAfterResume = events
      .slice(mark)
      .filter(([n, p]) => n === 'runs:event' && (p as RunEventPayload).event.type === 'epoch')
      .map(([, p]) => ((p as RunEventPayload).event as { epoch: number }).epoch);
    expect(epochsAfterResume[0]).toBe(stopped.epochsDone + 1);
    // the run's time is the whole run's: the part before the stop plus the resumed part
    const lastEpoch = events
      .slice(mark)
      .map(([n, p]) => (n === 'runs:event' ? (p as RunEventPayload).event : undefined))
      .filter((e): e is Extract<RunEventPayload['event'], { type: 'epoch' }> => e?.type === 'epoch')
      .at(-1)!;
    const elapsed = async () =>
      ((await host.dispatch('runs:list', {})) as { ok: true; result: RunSummary[] }).result.find(
        (r) => r.runId === runId,
      )!.elapsedSec ?? 0;
    expect(beforeResume).toBeGreaterThan(0);
    expect(await elapsed()).toBeCloseTo(beforeResume + lastEpoch.elapsedSec, 6);
  });

  it('a trainer killed mid-run fails the run clearly; resume continues in a new trainer', async () => {
    const runId = await start({ ...dense, epochs: 4 }, 2000);
    await waitEvent(runId, (e) => e.type === 'checkpoint' && e.epoch === 1);
    const pid = trainer.pid as number;
    process.kill(pid, 'SIGKILL');
    const failed = await waitStatus(runId, 'failed');
    expect(failed.message).toMatch(/trainer process stopped during this run/);
    expect(failed.message).toMatch(/SIGKILL/);
    expect(failed.message).toMatch(/last checkpoint/);
    // the host is fine
    expect(await host.dispatch('app:info', {})).toMatchObject({ ok: true });
    const mark = events.length;
    expect(await host.dispatch('runs:resume', { runId })).toMatchObject({ ok: true });
    expect(trainer.pid).not.toBe(pid);
    const done = await waitStatus(runId, 'completed', mark);
    expect(done.epochsDone).toBe(4);
    const list = (await host.dispatch('runs:list', {})) as { ok: true; result: RunSummary[] };
    expect(list.result[0].history.loss.length).toBe(4);
  });

  it('makes a built-in dataset ready in the trainer, previews it, trains on it, renames and deletes it', async () => {
    const added = await host.dispatch('datasets:addBuiltin', { name: 'shapes' });
    expect(added).toMatchObject({
      ok: true,
      result: { name: 'Shapes', count: 9000, shape: [28, 28, 1], labelNames: ['circle', 'square', 'triangle'] },
    });
    const id = (added as { ok: true; result: { id: string } }).result.id;
    expect(await host.dispatch('datasets:list', {})).toMatchObject({ ok: true, result: [{ id }] });
    const preview = (await host.dispatch('datasets:preview', { id, count: 4 })) as {
      ok: true;
      result: { images: string[]; mean: string };
    };
    expect(preview.result.images.map((b) => Buffer.from(b, 'base64').length)).toEqual([784, 784, 784, 784]);
    expect(Buffer.from(preview.result.mean, 'base64').length).toBe(784);

    const r = await host.dispatch('runs:start', { config: { ...dense, epochs: 1 }, dataset: { id, count: 2000 } });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    const runId = (r as { ok: true; result: { runId: string } }).result.runId;
    expect(await waitStatus(runId, 'completed')).toMatchObject({ epochsDone: 1 });

    expect(await host.dispatch('datasets:rename', { id, name: 'Формы' })).toMatchObject({
      ok: true,
      result: { name: 'Формы' },
    });
    expect(await host.dispatch('datasets:delete', { id })).toMatchObject({ ok: true });
    expect(await host.dispatch('datasets:list', {})).toMatchObject({ ok: true, result: [] });
    expect(await host.dispatch('datasets:preview', { id, count: 4 })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(await host.dispatch('datasets:delete', { id: '../../etc' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    // a run on a dataset that is gone fails with a clear message
    const gone = await host.dispatch('runs:start', { config: { ...dense, epochs: 1 }, dataset: { id } });
    const goneId = (gone as { ok: true; result: { runId: string } }).result.runId;
    expect((await waitStatus(goneId, 'failed')).message).toMatch(/There is no dataset '.*' in this workspace/);
  });

  it('imports dropped files: by path (Electron) and by chunked upload (serve mode), with progress and a report', async () => {
    const sharp = (await import('sharp')).default;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-drop-'));
    fs.mkdirSync(path.join(dir, 'ones'));
    fs.mkdirSync(path.join(dir, 'twos'));
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .png()
      .toBuffer();
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(dir, i % 2 ? 'ones' : 'twos', `${i}.png`), png);
    fs.writeFileSync(path.join(dir, 'ones', 'broken.png'), png.subarray(0, 30));
    const done = (jobId: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const tick = () => {
          const hit = events.find(([n, p]) => n === 'datasets:importDone' && (p as { jobId: string }).jobId === jobId);
          if (hit) resolve(hit[1] as Record<string, unknown>);
          else setTimeout(tick, 25);
        };
        tick();
      });

    const byPath = (await host.dispatch('datasets:import', {
      source: { paths: [dir] },
      name: 'Drop',
      options: { size: 16 },
    })) as { ok: true; result: { jobId: string } };
    expect(byPath.ok).toBe(true);
    const r1 = await done(byPath.result.jobId);
    expect(r1).toMatchObject({
      status: 'done',
      manifest: { name: 'Drop', count: 30, shape: [16, 16, 1] },
      report: { imported: 30, labelCounts: { ones: 15, twos: 15 } },
    });
    // the manifest keeps the options (with the default train/validation split) and the report
    expect(r1.manifest).toMatchObject({
      options: { size: 16, mode: 'grayscale', fit: 'stretch', validationSplit: 0.1, seed: 42 },
      report: { imported: 30, skipped: [{ file: 'ones/broken.png' }] },
    });
    const preview = (await host.dispatch('datasets:previewImport', {
      source: { paths: [dir] },
      options: { size: 8, mode: 'rgb' },
      count: 3,
    })) as {
      ok: true;
      result: { images: string[]; shape: number[]; labels: string[] };
    };
    expect(preview.result.shape).toEqual([8, 8, 3]);
    expect(preview.result.images.map((b) => Buffer.from(b, 'base64').length)).toEqual([192, 192, 192]);
    expect((r1.report as { skipped: Array<{ file: string }> }).skipped).toMatchObject([{ file: 'ones/broken.png' }]);
    expect(events.some(([n]) => n === 'datasets:importProgress')).toBe(true);

    // serve mode: the browser streams bytes, the host stores them in a private upload folder
    const up = (await host.dispatch('datasets:uploadBegin', {})) as { ok: true; result: { uploadId: string } };
    const uploadId = up.result.uploadId;
    const b64 = png.toString('base64');
    for (const p of ['cats/a.png', 'cats/b.png', 'dogs/c.png']) {
      expect(
        await host.dispatch('datasets:uploadChunk', { uploadId, path: p, data: b64.slice(0, 100), append: false }),
      ).toMatchObject({ ok: true });
    }
    // a file in two chunks (the split is on a 4-character base64 boundary)
    expect(
      await host.dispatch('datasets:uploadChunk', {
        uploadId,
        path: 'dogs/d.png',
        data: png.subarray(0, 300).toString('base64'),
        append: false,
      }),
    ).toMatchObject({ ok: true });
    expect(
      await host.dispatch('datasets:uploadChunk', {
        uploadId,
        path: 'dogs/d.png',
        data: png.subarray(300).toString('base64'),
        append: true,
      }),
    ).toMatchObject({ ok: true });
    for (const bad of ['../escape.png', '/etc/passwd', 'a/../../b.png', 'a\\b.png', 'x/./y.png']) {
      expect(
        await host.dispatch('datasets:uploadChunk', { uploadId, path: bad, data: 'AA==', append: false }),
      ).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    }
    const imp = (await host.dispatch('datasets:import', { source: { uploadId }, name: 'Uploaded', options: {} })) as {
      ok: true;
      result: { jobId: string };
    };
    const r2 = await done(imp.result.jobId);
    // three files were only their first 100 base64 characters: skipped as truncated; d.png is whole
    expect(r2).toMatchObject({ status: 'done', report: { imported: 1, labelCounts: { dogs: 1 } } });
    expect((r2.report as { skipped: unknown[] }).skipped.length).toBe(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(fs.existsSync(path.join(workspace, 'uploads', uploadId))).toBe(false); // the upload is cleaned up
    expect(fs.existsSync(path.join(os.tmpdir(), 'escape.png'))).toBe(false);
    expect(await host.dispatch('datasets:import', { source: { paths: ['relative/dir'] }, name: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });

  it('serves the Gallery of a trained run: triplets with metrics, samples, worst, latent map, manifold, interpolation', async () => {
    const runId = await start(
      {
        kind: 'vae',
        inputShape: [28, 28, 1],
        latentDim: 2,
        hidden: [128],
        loss: 'bce',
        batchSize: 100,
        epochs: 2,
        noise: { type: 'gaussian', level: 0.3 },
      },
      2000,
    );
    expect(await host.dispatch('gallery:samples', { runId })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringMatching(/no trained model yet/) },
    });
    await waitStatus(runId, 'completed');
    const call = async <T>(name: string, payload: object) => {
      const r = await host.dispatch(name, payload);
      expect(r.ok, JSON.stringify(r).slice(0, 300)).toBe(true);
      return (r as { ok: true; result: T }).result;
    };
    const px = (b: string) => Buffer.from(b, 'base64');
    const t = await call<{
      originals: string[];
      noisy: string[];
      reconstructions: string[];
      mse: number[];
      psnr: number[];
      ssim: number[];
    }>('gallery:triplets', { runId, count: 6 });
    expect(t.originals.length).toBe(6);
    expect(px(t.reconstructions[0]).length).toBe(784);
    expect(px(t.noisy[0]).equals(px(t.originals[0]))).toBe(false); // Gaussian noise was applied
    t.mse.forEach((m) => expect(m).toBeGreaterThan(0));
    t.psnr.forEach((p) => expect(p).toBeGreaterThan(5));
    t.ssim.forEach((v) => expect(v).toBeLessThanOrEqual(1));
    const s1 = await call<{ images: string[] }>('gallery:samples', { runId, count: 4, seed: 1 });
    const s2 = await call<{ images: string[] }>('gallery:samples', { runId, count: 4, seed: 2 });
    expect(s1.images.length).toBe(4);
    expect(s1.images[0]).not.toBe(s2.images[0]); // reroll gives new samples
    const w = await call<{ mse: number[] }>('gallery:worst', { runId, count: 5 });
    expect([...w.mse].sort((a, b) => b - a)).toEqual(w.mse);
    const l = await call<{ points: number[]; labels: number[]; method: string }>('gallery:latent', { runId, max: 100 });
    expect(l.method).toBe('identity');
    expect(l.points.length).toBe(2 * l.labels.length);
    const m = await call<{ images: string[] }>('gallery:manifold', { runId, grid: 4 });
    expect(m.images.length).toBe(16);
    const i = await call<{ images: string[] }>('gallery:interpolate', { runId, a: 0, b: 1, steps: 5 });
    expect(i.images.length).toBe(5);
    // a conv AE with a 16-d code has no manifold grid: a clear error
    const conv = await start({ ...dense, latentDim: 8, epochs: 1 }, 500);
    await waitStatus(conv, 'completed');
    expect(await host.dispatch('gallery:manifold', { runId: conv, grid: 4 })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/needs a 2-D code/) },
    });
    expect(await host.dispatch('gallery:latent', { runId: conv })).toMatchObject({
      ok: true,
      result: { method: 'pca' },
    });
  });

  it('lists runs again after a restart; a run interrupted by the restart resumes from its checkpoint', async () => {
    const runId = await start({ ...dense, epochs: 4 }, 2000);
    await waitEvent(runId, (e) => e.type === 'checkpoint' && e.epoch === 1);
    await host.dispose(); // the studio closes mid-run (its trainer is stopped)
    trainer = createTestSupervisor();
    host = createHost({ mode: 'serve', version: 'test', trainer, workspaceDir: workspace });
    events = [];
    host.subscribe((name, payload) => events.push([name, payload]));
    const list = (await host.dispatch('runs:list', {})) as { ok: true; result: RunSummary[] };
    const run = list.result.find((r) => r.runId === runId)!;
    expect(run.status).toBe('stopped');
    expect(run.message).toMatch(/Interrupted.*Resume continues after epoch \d/);
    expect(run.epochsDone).toBeGreaterThanOrEqual(1);
    expect(run.history.loss.length).toBe(run.epochsDone);
    expect(await host.dispatch('runs:resume', { runId })).toMatchObject({ ok: true });
    expect((await waitStatus(runId, 'completed')).epochsDone).toBe(4);
    // and a finished run is listed as finished after another restart
    await host.dispose();
    trainer = createTestSupervisor();
    host = createHost({ mode: 'serve', version: 'test', trainer, workspaceDir: workspace });
    await new Promise((r) => setTimeout(r, 50));
    const again = (await host.dispatch('runs:list', {})) as { ok: true; result: RunSummary[] };
    expect(again.result.find((r) => r.runId === runId)).toMatchObject({ status: 'completed', epochsDone: 4 });
  });
});
