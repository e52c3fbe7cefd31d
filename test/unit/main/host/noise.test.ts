// host/noise.ts (`noise:preview`, `models:speed`) through createHost and the REAL trainer: the
// preview corrupts the first images of a stored dataset, repeatably by seed; masking only ever
// zeroes pixels; a missing dataset is not_found. A speed measurement times the training step at
// a few batch sizes, and is refused in plain words while a run trains.
import { afterEach, describe, expect, it } from 'vitest';
import { cornersDataset, hostInTemp, tinyConfig, waitForRun, type TestHost } from './helpers';

let t: TestHost | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});
const bytes = (s: string) => [...Buffer.from(s, 'base64')];

describe('the noise preview', () => {
  it('corrupts the first images of a stored dataset, the same way for the same seed', async () => {
    t = hostInTemp();
    const id = await cornersDataset(t.ws);
    const p = await t.ok('noise:preview', {
      dataset: { id },
      noise: { type: 'gaussian', level: 0.5 },
      count: 4,
      seed: 3,
    });
    expect(p.shape).toEqual([12, 12, 1]);
    expect(p.clean).toHaveLength(4);
    expect(p.noisy).toHaveLength(4);
    expect(bytes(p.clean[0])).toHaveLength(144);
    expect(p.noisy[0]).not.toBe(p.clean[0]);
    expect(
      (await t.ok('noise:preview', { dataset: { id }, noise: { type: 'gaussian', level: 0.5 }, count: 4, seed: 3 }))
        .noisy,
    ).toEqual(p.noisy);
    expect(
      (await t.ok('noise:preview', { dataset: { id }, noise: { type: 'gaussian', level: 0.5 }, count: 4, seed: 4 }))
        .noisy[0],
    ).not.toBe(p.noisy[0]);

    const masked = await t.ok('noise:preview', {
      dataset: { id },
      noise: { type: 'masking', level: 0.5 },
      count: 4,
      seed: 1,
    });
    const [clean, noisy] = [bytes(masked.clean[0]), bytes(masked.noisy[0])];
    expect(noisy.every((v, i) => v === 0 || v === clean[i])).toBe(true);
    expect(noisy.filter((v, i) => v !== clean[i]).length).toBeGreaterThan(0);

    const e = await t.refused('noise:preview', {
      dataset: { id: 'gone-000000' },
      noise: { type: 'gaussian', level: 0.5 },
    });
    expect(e.code).toBe('not_found');
    expect(e.message).toMatch(/gone-000000/);
  });
});

describe('the speed measurement', () => {
  it('times the training step at a few batch sizes when no run trains, and is refused while one does', async () => {
    t = hostInTemp();
    const speed = await t.ok('models:speed', { config: tinyConfig });
    expect(speed.rates.length).toBeGreaterThan(0);
    for (const r of speed.rates) expect(r.samplesPerSec).toBeGreaterThan(0);

    const id = await cornersDataset(t.ws);
    const { runId } = await t.ok('runs:start', { config: { ...tinyConfig, epochs: 500 }, dataset: { id } });
    expect(await t.refused('models:speed', { config: tinyConfig })).toEqual({
      code: 'conflict',
      message:
        'Measure the speed when no run is training: a measurement would slow the run down, and the run would skew the numbers.',
    });
    await t.ok('runs:stop', { runId });
    await waitForRun(t, runId, ['stopped', 'completed', 'failed']);
  });
});
