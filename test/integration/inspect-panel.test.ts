// The Inspect panel's calls through the host and the REAL trainer process, for a run that was not
// trained on an inspection set: a dense AE on built-in MNIST with digit 2 left out. Before
// calibration the panel says so and a threshold or Try it is refused (writing nothing); Calibrate
// measures it on the run's good validation pictures (percentile threshold: no labelled test set) and
// scores the validation split with the left-out digit as the defects, worst first with maps; a
// moved threshold is saved as `manual`; Try it gives a digit its map and verdict.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src-main/host';
import type { CallRes, EventName } from '../../src-main/contract';
import { createTestSupervisor, runCompleted } from '../helpers/trainer';
import { okResult } from '../helpers/host-results';
import { loadMnist } from '../../src-main/engine';

let host: Host;
let workspace: string;
let runId: string;
const events: Array<[EventName, unknown]> = [];
const inspectionFile = () => path.join(workspace, 'runs', runId, 'model', 'inspection.json');

beforeAll(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-inspect-panel-'));
  host = createHost({ mode: 'serve', version: 'test', trainer: createTestSupervisor(), workspaceDir: workspace });
  host.subscribe((name, payload) => events.push([name, payload]));
  const config = {
    kind: 'dense',
    inputShape: [28, 28, 1],
    latentDim: 16,
    epochs: 2,
    batchSize: 64,
    validationSplit: 0.2,
    excludeLabels: [2],
  };
  const r = await host.dispatch('runs:start', { config, dataset: { builtin: 'mnist', count: 1500 } });
  runId = okResult<{ runId: string }>(r).runId;
  await runCompleted(events, runId);
}, 240_000);
afterAll(async () => {
  await host?.dispose();
  fs.rmSync(workspace, { recursive: true, force: true });
});

describe('the Inspect panel on a run trained without digit 2', () => {
  it('says the run is not calibrated, and refuses a threshold and Try it, writing nothing', async () => {
    const v = okResult<CallRes<'inspect:images'>>(await host.dispatch('inspect:images', { runId }));
    expect(v.calibration).toBeNull();
    expect(v.note).toMatch(/not been calibrated/);
    expect(v.items).toEqual([]);
    const t = await host.dispatch('inspect:threshold', { runId, value: 1 });
    expect(t).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload', message: expect.stringMatching(/not been calibrated/) },
    });
    const png = await sharp(Buffer.alloc(28 * 28), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toBuffer();
    const tr = await host.dispatch('inspect:try', { runId, files: [{ name: 'x.png', data: png.toString('base64') }] });
    expect(tr).toMatchObject({ ok: false, error: { message: expect.stringMatching(/not been calibrated/) } });
    expect(fs.existsSync(inspectionFile())).toBe(false);
    expect(await host.dispatch('inspect:threshold', { runId: 'no-such-run', value: 1 })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });

  it('calibrates on the good validation pictures, scores the validation split worst first, saves a moved threshold, and tries a digit', async () => {
    const v = okResult<CallRes<'inspect:calibrate'>>(
      await host.dispatch('inspect:calibrate', { runId, count: 10, settings: { map: 'l2', score: 'topk' } }),
    );
    expect(v.source).toEqual({ name: 'MNIST', kind: 'validation' });
    expect(v.calibration!.settings.map).toBe('l2');
    expect(v.calibration!.threshold).toMatchObject({ method: 'percentile', percentile: 99 });
    expect(v.calibration!.measured).toBeUndefined();
    expect(v.scores.length).toBe(300); // the validation split: a fifth of 1,500
    expect(v.defective).toEqual(v.labels.map((l) => l === 2)); // the left-out digit is the "defect"
    expect(v.items.length).toBe(10);
    const sorted = [...v.scores].sort((a, b) => b - a);
    expect(v.items.map((i) => i.score)).toEqual(sorted.slice(0, 10));
    for (const it of v.items) {
      expect(Buffer.from(it.map, 'base64').length).toBe(784);
      expect(Buffer.from(it.original, 'base64').length).toBe(784);
      expect(it.mask).toBeUndefined();
    }
    // the digit the model never saw scores higher on average
    const mean = (want: boolean) => {
      const s = v.scores.filter((_, i) => v.defective[i] === want);
      return s.reduce((a, b) => a + b, 0) / s.length;
    };
    console.log(`mean top-1 % score: digit 2 ${mean(true).toFixed(3)}, the others ${mean(false).toFixed(3)}`);
    expect(mean(true)).toBeGreaterThan(mean(false));
    const onDisk = JSON.parse(fs.readFileSync(inspectionFile(), 'utf8')) as {
      run: string;
      threshold: { value: number };
    };
    expect(onDisk.run).toBe(runId);
    expect(onDisk.threshold.value).toBe(v.calibration!.threshold.value);

    const t = okResult<CallRes<'inspect:threshold'>>(
      await host.dispatch('inspect:threshold', { runId, value: sorted[20] }),
    );
    expect(t).toEqual({
      value: sorted[20],
      method: 'manual',
      measured: { value: v.calibration!.threshold.value, method: 'percentile' },
    });
    const again = okResult<CallRes<'inspect:images'>>(await host.dispatch('inspect:images', { runId, count: 4 }));
    expect(again.calibration!.threshold.value).toBe(sorted[20]);
    expect(again.scores).toEqual(v.scores);

    const digits = loadMnist(1200, { seed: 1 });
    const i2 = Array.from(digits.labels!).indexOf(2);
    const png = await sharp(Buffer.from(digits.images.subarray(i2 * 784, (i2 + 1) * 784)), {
      raw: { width: 28, height: 28, channels: 1 },
    })
      .png()
      .toBuffer();
    const tried = okResult<CallRes<'inspect:try'>>(
      await host.dispatch('inspect:try', {
        runId,
        files: [
          { name: 'two.png', data: png.toString('base64') },
          { name: 'bad.png', data: 'AAAA' },
        ],
      }),
    );
    expect(tried.threshold).toBe(sorted[20]);
    const [two, bad] = tried.results;
    expect(Buffer.from(two.map!, 'base64').length).toBe(784);
    expect(two.defective).toBe(two.score! >= sorted[20]);
    expect(bad.error).toBeTruthy();
  }, 180_000);
});
