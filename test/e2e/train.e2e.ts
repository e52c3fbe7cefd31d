// End to end: a person trains from the Train view of `npm run serve` in Chromium — a conv
// autoencoder with Gaussian input noise on built-in MNIST. The chart gains points while it
// trains, progress advances, reconstructions appear; stop and resume work.
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
  await page.goto(serve.url + '#/train');
  await page.getByText(/Backend: tensorflow/).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

const attr = async (testId: string, name: string) => Number(await page.getByTestId(testId).getAttribute(name));
const status = async () => (await page.getByTestId('run-status').textContent())?.trim();

describe('training from the Train view', () => {
  it('trains a denoising conv AE on MNIST with a live chart, progress and previews', async () => {
    await page.getByTestId('run-preset').selectOption('conv');
    await page.getByTestId('run-epochs').fill('2');
    await page.getByTestId('run-count').fill('6000');
    await page.getByTestId('run-noise').selectOption('gaussian');
    await page.getByTestId('run-noise-level').fill('0.3');
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
    const firstSample = () => page.evaluate(`document.querySelector('[data-testid="gallery-samples"] canvas').toDataURL()`);
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
    await expect.poll(async () => (await page.getByTestId('run-stats').textContent()) ?? '', { timeout: 60_000 }).toMatch(/epoch [2-5] \/ 6/); // epoch 1 is checkpointed
    await expect.poll(() => page.getByTestId('run-resume').count(), { timeout: 1_000 }).toBe(0);
    await page.getByTestId('run-stop').click();
    await expect.poll(status, { timeout: 60_000 }).toBe('stopped');
    await page.getByTestId('run-resume').click();
    await expect.poll(status, { timeout: 120_000 }).toBe('completed');
    expect(await page.getByTestId('run-list').locator('tbody tr').count()).toBe(2);
    await page.screenshot({ path: screenshotPath('train-resumed'), fullPage: true });
  });

  it('had no page errors', () => {
    expect(errors).toEqual([]);
  });
});
