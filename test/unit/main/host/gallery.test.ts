// host/gallery.ts (`gallery:*`) through createHost and the REAL trainer, on a run trained for one
// epoch on a tiny stored dataset: every view answers in its shape (images of the dataset's size,
// the worst first, the latent map with the label names), a picture the user tries is
// reconstructed and an unreadable one is answered in words. An unknown run is not_found; a run
// without a trained model is refused in plain words before the trainer is asked. Choosing the run's
// sampler (`gallery:chooseSampler`) writes generation/sampler.json, which the Gallery's samples and a
// later `ae-studio generate` (run here in-process) then draw from.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { generateCommand } from '../../../../src-main/cli/generate';
import { tf } from '../../../../src-main/engine/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfig } from '../../../../src-main/contract';
import { splitIndices } from '../../../../src-main/engine/data';
import { hostInTemp, storedRun, tinyConfig, trainedRun, waitForRun, type TestHost } from './helpers';

let t: TestHost;
let runId: string;
beforeAll(async () => {
  t = hostInTemp({ prepare: (ws) => storedRun(ws, 'run-20261201-000000-0000', 'stopped') });
  runId = await trainedRun(t);
});
afterAll(async () => {
  await t?.dispose();
});
const pixels = (img: string) => Buffer.from(img, 'base64').length;

describe('the Gallery', () => {
  it('refuses an unknown run and a run without a model in plain words', async () => {
    expect(await t.refused('gallery:triplets', { runId: 'run-20990101-000000-ffff' })).toEqual({
      code: 'not_found',
      message: "There is no run 'run-20990101-000000-ffff' in this workspace.",
    });
    expect(
      await t.refused('gallery:try', { runId: 'run-20261201-000000-0000', files: [{ name: 'a.png', data: 'eA==' }] }),
    ).toEqual({
      code: 'conflict',
      message:
        "Run 'run-20261201-000000-0000' has no trained model yet (it is stopped); the Gallery shows finished runs.",
    });
  });

  it("shows originals and reconstructions, samples, the worst first, the latent map, the manifold and an interpolation in the dataset's size", async () => {
    const tri = await t.ok('gallery:triplets', { runId, count: 4 });
    expect(tri.shape).toEqual([12, 12, 1]);
    expect(tri.originals).toHaveLength(4);
    expect(tri.reconstructions.map(pixels)).toEqual([144, 144, 144, 144]);
    expect(tri.mse.every((m) => m >= 0)).toBe(true);

    const samples = await t.ok('gallery:samples', { runId, count: 3, seed: 5 });
    expect(samples.images).toHaveLength(3);
    expect((await t.ok('gallery:samples', { runId, count: 3, seed: 5 })).images).toEqual(samples.images);

    const worst = await t.ok('gallery:worst', { runId, count: 3 });
    expect(worst.mse).toEqual([...worst.mse].sort((a, b) => b - a));

    const latent = await t.ok('gallery:latent', { runId, max: 50 });
    expect(latent.labelNames).toEqual(['top left', 'top right', 'bottom left', 'bottom right']);
    expect(latent.points).toHaveLength(2 * latent.labels.length);

    expect((await t.ok('gallery:manifold', { runId, grid: 3 })).images).toHaveLength(9);
    const between = await t.ok('gallery:interpolate', { runId, a: 0, b: 1, steps: 4 });
    expect(between.images.map(pixels)).toEqual([144, 144, 144, 144]);
  });

  it('takes its images from the validation images the run really held out: never a label it left out (the interpolation picker shows what interpolation uses)', async () => {
    const dataset = (await t.ok('datasets:list', {})).find((d) => 'name' in d && d.name === 'Corners')!.id;
    const config = { ...tinyConfig, validationSplit: 0.2, excludeLabels: [3] };
    const { runId: leftOut } = await t.ok('runs:start', { config, dataset: { id: dataset } });
    expect((await waitForRun(t, leftOut, ['completed', 'failed'])).status).toBe('completed');
    // the dataset's held-out 20 images include some of label 3 (k % 4 === 3), which the run left out
    const held = splitIndices(100, 0.2, ModelConfig.parse(config).seed);
    const validation = Array.from(held.val).filter((k) => k % 4 !== 3);
    expect(validation.length).toBeLessThan(held.val.length);

    const latent = await t.ok('gallery:latent', { runId: leftOut, max: 100 });
    expect(latent.labels).toEqual(validation.map((k) => k % 4));
    const tri = await t.ok('gallery:triplets', { runId: leftOut, count: 64 });
    expect(tri.originals).toHaveLength(validation.length);
    const n = validation.length;
    expect((await t.ok('gallery:interpolate', { runId: leftOut, a: 0, b: n - 1, steps: 2 })).images).toHaveLength(2);
    expect((await t.refused('gallery:interpolate', { runId: leftOut, a: 0, b: n, steps: 2 })).message).toMatch(
      new RegExp(`only ${n} validation images`),
    );
  });

  it("chooses the run's sampler as `generate --sampler` does: the file is written, the Gallery's samples and a later `generate` use it", async () => {
    const file = path.join(t.ws, 'runs', runId, 'generation', 'sampler.json');
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    // refused in plain words, nothing written: the prior of a plain autoencoder, a sampler that is no sampler, a run without a model
    expect(await t.refused('gallery:chooseSampler', { runId, sampler: 'prior' })).toMatchObject({
      message: expect.stringMatching(/is not a VAE, so its codes have no N\(0, I\) prior/),
    });
    expect((await t.refused('gallery:chooseSampler', { runId, sampler: 'best' })).code).toBe('invalid_payload');
    expect(
      (await t.refused('gallery:chooseSampler', { runId: 'run-20261201-000000-0000', sampler: 'full' })).code,
    ).toBe('conflict');
    expect(fs.existsSync(file)).toBe(false);
    expect((await t.ok('gallery:samplers', { runId, count: 2 })).chosen).toBeNull();
    const before = await t.ok('gallery:samples', { runId, count: 4, seed: 3 });

    const r = await t.ok('gallery:chooseSampler', { runId, sampler: 'diagonal' });
    expect(r).toMatchObject({ chosen: 'diagonal', description: 'diagonal Gaussian' });
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({ name: 'diagonal', fittedOn: r.fittedOn, sampler: { kind: 'diagonal' } });
    expect(r.fittedOn).toBeGreaterThan(50); // the run's real training images (100 less its validation split)
    expect((await t.ok('gallery:samplers', { runId, count: 2 })).chosen).toBe('diagonal');
    // the Gallery's generated samples now come from it (the same seed drew from the full-covariance Gaussian before)
    const after = await t.ok('gallery:samples', { runId, count: 4, seed: 3 });
    expect(after.images).not.toEqual(before.images);
    expect((await t.ok('gallery:samples', { runId, count: 4, seed: 3 })).images).toEqual(after.images);

    // `ae-studio generate` without --sampler draws from the very density the Gallery saved
    const lines: string[] = [];
    const tensors = tf.memory().numTensors;
    const out = path.join(t.ws, 'generated-pngs');
    expect(
      await generateCommand(
        ['--workspace', t.ws, '--run', runId, '--count', '3', '--out', out, '--seed', '3', '--json'],
        (l) => lines.push(l),
      ),
    ).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(JSON.parse(lines[0])).toMatchObject({ sampler: 'diagonal', reusedRememberedSampler: true });
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).savedAt).toBe(saved.savedAt); // reused, not refitted
    // the same draw as the Gallery's: the first PNG holds the Gallery's first sample's pixels
    const png = await sharp(path.join(out, '0000.png')).extractChannel(0).raw().toBuffer();
    expect(Array.from(png)).toEqual(Array.from(Buffer.from(after.images[0], 'base64')));
  });

  it('reconstructs a picture the user tries and answers an unreadable one in words', async () => {
    const png = await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .png()
      .toBuffer();
    const r = await t.ok('gallery:try', {
      runId,
      files: [
        { name: 'square.png', data: png.toString('base64') },
        { name: 'notes.png', data: Buffer.from('not a picture').toString('base64') },
      ],
    });
    expect(r.shape).toEqual([12, 12, 1]);
    expect(r.results[0]).toMatchObject({ name: 'square.png', mse: expect.any(Number) });
    expect(pixels(r.results[0].reconstruction!)).toBe(144);
    expect(r.results[0].code).toHaveLength(2);
    expect(r.results[1]).toMatchObject({ name: 'notes.png', error: expect.stringMatching(/\w/) });
    expect(r.results[1].reconstruction).toBeUndefined();
  });
});
