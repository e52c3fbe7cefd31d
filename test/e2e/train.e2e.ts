// End to end: a person sets up a model in the Model view of `npm run serve` in Chromium — the conv
// preset with Gaussian input noise on built-in MNIST — sees the noise on real digits in the Noise
// view, and trains it from the Train view. The chart gains points while it trains, progress
// advances, reconstructions appear, the Gallery shows them with generated samples and a latent
// map that shows a digit on hover; stop and resume work; runs are compared in one chart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../helpers/serve-process';
import { launchChromium, screenshotPath } from '../helpers/browser';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  serve = await startServe(['--workspace', fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-train-'))]);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(serve.url + '#/model');
  await page.getByText(/Backend: tensorflow/).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

const attr = async (testId: string, name: string) => Number(await page.getByTestId(testId).getAttribute(name));
const status = async () => (await page.getByTestId('run-status').textContent())?.trim();

/** How different the first clean and the first corrupted image of the Noise view are (mean |Δ| of red, 0..255). */
const noiseGap = () =>
  page.evaluate(`(() => {
    const px = (row) => { const c = document.querySelector('[data-testid="noise-preview"] [data-row="' + row + '"] canvas'); return c.getContext('2d').getImageData(0, 0, c.width, c.height).data; };
    const a = px('clean'), b = px('noisy');
    let s = 0;
    for (let i = 0; i < a.length; i += 4) s += Math.abs(a[i] - b[i]);
    return s / (a.length / 4);
  })()`) as Promise<number>;

describe('from the Model view to a trained model', () => {
  it('sets up a conv AE with Gaussian noise in the Model view, with inline messages and the network summary', async () => {
    await page.getByTestId('preset-conv').click();
    await page.getByTestId('field-epochs').fill('0');
    expect(await page.getByTestId('error-epochs').textContent()).toBe('must be at least 1');
    expect(await page.getByTestId('model-train').isDisabled()).toBe(true);
    await page.getByTestId('field-epochs').fill('2');
    await page.getByTestId('run-count').fill('6000');
    await page.getByTestId('field-noise').selectOption('gaussian');
    await page.getByTestId('field-noise-level').fill('0.3');
    expect(await page.getByTestId('error-epochs').count()).toBe(0);
    expect(await page.getByTestId('model-params').textContent()).toBe('141,073');
    expect(await page.getByTestId('model-summary').textContent()).toMatch(
      /enc_conv2\s*Conv2D · relu\s*7 × 7 × 64\s*18,496/,
    );
    await page.screenshot({ path: screenshotPath('model'), fullPage: true });
  });

  it('shows the noise on the first digits in the Noise view, live as the level changes', async () => {
    await page.getByTestId('model-to-noise').click();
    await page.getByTestId('view-noise').waitFor();
    await expect.poll(() => page.locator('[data-testid="noise-preview"] canvas').count(), { timeout: 30_000 }).toBe(24);
    expect(await page.getByTestId('noise-type-gaussian').isChecked()).toBe(true);
    const low = await noiseGap();
    expect(low).toBeGreaterThan(15); // σ 0.3 is plainly visible
    await page.getByTestId('noise-level').fill('0.8');
    await expect.poll(noiseGap, { timeout: 15_000 }).toBeGreaterThan(low + 15);
    await page.getByTestId('noise-level').fill('0.3');
    await expect.poll(noiseGap, { timeout: 15_000 }).toBeLessThan(low + 5);
    await page.screenshot({ path: screenshotPath('noise'), fullPage: true });
  });

  it('trains it from the Train view with a live chart, progress and previews', async () => {
    await page.getByTestId('nav-train').click();
    expect(await page.getByTestId('run-describe').textContent()).toBe(
      'conv · 16-d code · 2 epochs, gaussian noise 0.3',
    );
    await page.getByTestId('train-start').click();
    await page.getByTestId('run-panel').waitFor({ timeout: 10_000 });

    // While it runs: the chart gains points and the progress bar advances.
    await expect.poll(() => attr('loss-chart', 'data-points'), { timeout: 30_000 }).toBeGreaterThan(0);
    const firstPoints = await attr('loss-chart', 'data-points');
    const firstProgress = await attr('run-progress', 'data-progress');
    await expect.poll(() => attr('loss-chart', 'data-points'), { timeout: 30_000 }).toBeGreaterThan(firstPoints);
    await expect.poll(() => attr('run-progress', 'data-progress'), { timeout: 30_000 }).toBeGreaterThan(firstProgress);
    await page.screenshot({ path: screenshotPath('train-running'), fullPage: true });

    await expect.poll(status, { timeout: 120_000 }).toBe('completed');
    expect(await attr('run-progress', 'data-progress')).toBe(1);
    expect(await page.getByTestId('run-step').textContent(), 'the Train view names the training step').toBe(
      'step: one TensorFlow graph',
    );
    await page.getByTestId('preview-grid').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid="preview-grid"] canvas').count()).toBe(18); // 6 × original / noisy / reconstruction
    // The reconstructions are drawn, not blank: some pixels are bright.
    // (a string, so this Node-typed test file needs no DOM types)
    const bright = (await page.evaluate(`(() => {
      const c = document.querySelector('[data-testid="preview-grid"] canvas[data-row="reconstructions"]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
      return n;
    })()`)) as number;
    expect(bright).toBeGreaterThan(20);
    expect(await page.getByTestId('run-list').locator('tbody tr').count()).toBe(1);
    await page.screenshot({ path: screenshotPath('train-completed'), fullPage: true });
    await page.screenshot({ path: screenshotPath('train') });
  });

  it('shows the finished run in the Gallery: reconstructions with metrics, samples that reroll, latent map, worst cases', async () => {
    await page.getByTestId('nav-gallery').click();
    const triplets = page.getByTestId('gallery-triplets');
    await triplets.waitFor({ timeout: 60_000 });
    expect(await triplets.locator('canvas').count()).toBe(30); // 10 × original / noisy / reconstruction
    expect(await triplets.textContent()).toMatch(/MSE 0\.\d{4}\s*PSNR \d+\.\d dB\s*SSIM 0\.\d{3}/);
    await page.getByTestId('gallery-samples').waitFor();
    await page.getByTestId('gallery-latent').waitFor();
    await page.getByTestId('gallery-worst').waitFor();
    // hovering a point of the latent map shows its image
    const map = page.getByTestId('latent-map');
    const spot = (await page.evaluate(`(() => {
      const c = document.querySelector('[data-testid="latent-map"]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let y = 20; y < c.height - 20; y++) for (let x = 20; x < c.width - 20; x++) if (d[(y * c.width + x) * 4 + 3] === 255) return [x, y];
      return null;
    })()`)) as [number, number] | null;
    expect(spot).not.toBeNull();
    await map.scrollIntoViewIfNeeded();
    const box = (await map.boundingBox())!;
    await page.mouse.move(box.x + spot![0] + 1.5, box.y + spot![1] + 1.5);
    await page.getByTestId('latent-hover').waitFor({ timeout: 5_000 });
    expect(await page.getByTestId('latent-hover').textContent()).toMatch(/^\s*\d\s*$/); // the digit's name
    expect(await page.locator('[data-testid="latent-hover"] canvas').count()).toBe(1);
    const firstSample = () =>
      page.evaluate(`document.querySelector('[data-testid="gallery-samples"] canvas').toDataURL()`);
    const before = await firstSample();
    await page.getByTestId('gallery-reroll').click();
    await expect.poll(firstSample, { timeout: 20_000 }).not.toBe(before);
    await page.screenshot({ path: screenshotPath('gallery'), fullPage: true });
    await page.getByTestId('nav-train').click();
  });

  it('stops a run and resumes it from its checkpoint', async () => {
    await page.getByTestId('run-preset').selectOption('dense');
    await page.getByTestId('run-epochs').fill('6');
    await page.getByTestId('run-count').fill('5000');
    await page.getByTestId('run-noise').selectOption('none');
    await page.getByTestId('train-start').click();
    await expect
      .poll(async () => (await page.getByTestId('run-stats').textContent()) ?? '', { timeout: 60_000 })
      .toMatch(/epoch [2-5] \/ 6/); // epoch 1 is checkpointed
    await expect.poll(() => page.getByTestId('run-resume').count(), { timeout: 1_000 }).toBe(0);
    await page.getByTestId('run-stop').click();
    await expect.poll(status, { timeout: 60_000 }).toBe('stopped');
    // a stopped run shows the epochs it finished (what Resume continues after), not the batch it was in
    const stopped = (await page.getByTestId('run-stats').textContent()) ?? '';
    const resumeAfter = Number(
      /Resume after epoch (\d+)/.exec((await page.getByTestId('run-resume').textContent()) ?? '')?.[1],
    );
    expect(stopped).toMatch(new RegExp(`^${resumeAfter} of 6 epochs done`));
    expect(stopped).not.toMatch(/batch/);
    await page.getByTestId('run-resume').click();
    await expect.poll(status, { timeout: 120_000 }).toBe('completed');
    expect(await page.getByTestId('run-list').locator('tbody tr').count()).toBe(2);
    await page.screenshot({ path: screenshotPath('train-resumed'), fullPage: true });
  });

  it('overlays the epoch curves of both runs in one chart', async () => {
    const boxes = page.getByTestId('run-compare');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    const chart = page.getByTestId('compare-chart');
    await chart.waitFor();
    expect(await chart.getAttribute('data-runs')).toBe('2');
    expect(Number(await chart.getAttribute('data-points'))).toBe(8); // 2 + 6 epochs
    const legend = (await chart.locator('.u-legend').textContent()) ?? '';
    expect(legend).toMatch(/conv train/);
    expect(legend).toMatch(/dense train/);
    expect(legend.match(/validation/g)).toHaveLength(2);
    await chart.scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('train-compare'), fullPage: true });
  });

  it('lists the keyboard shortcuts on ?, and a screenshot of every view with the trained runs', async () => {
    await page.locator('body').press('?');
    await page.getByTestId('shortcuts-help').waitFor();
    await page.screenshot({ path: screenshotPath('shortcuts') });
    await page.keyboard.press('Escape');
    for (const [i, name] of ['datasets', 'model', 'noise', 'train', 'gallery', 'export'].entries()) {
      await page.keyboard.press(`Alt+${i + 1}`);
      await page.getByTestId(`view-${name}`).waitFor();
      await page.waitForTimeout(name === 'noise' || name === 'gallery' ? 1_500 : 300);
      await page.screenshot({ path: screenshotPath(`studio-${name}`), fullPage: true });
    }
  });

  it('had no page errors', () => {
    expect(errors).toEqual([]);
  });
});
