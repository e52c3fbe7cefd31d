// End to end: the Gallery's samplers side by side in `npm run serve` in Chromium — a small VAE on
// built-in MNIST trained from the Model view, then in the Gallery *Show samplers* puts a grid of new
// images under each of the five samplers (fitted by the real trainer), and *Reroll* draws again;
// *Use for this run* makes one the run's remembered sampler, marked *chosen*, still after a reload.
// (Measuring is checked through the host in test/integration/generation.test.ts: training the
// dataset's classifier takes longer than an end-to-end test should.)
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
  serve = await startServe(['--workspace', fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-samplers-'))]);
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

describe('samplers side by side in the Gallery', () => {
  it('shows a grid of new images under each sampler of a trained VAE and rerolls them', async () => {
    await page.getByTestId('preset-vae').click();
    await page.getByTestId('field-epochs').fill('2');
    await page.getByTestId('run-count').fill('2000');
    await page.getByTestId('model-train').click();
    await page.getByTestId('run-panel').waitFor({ timeout: 15_000 });
    await expect
      .poll(async () => (await page.getByTestId('run-status').textContent())?.trim(), { timeout: 180_000 })
      .toBe('completed');

    await page.getByTestId('nav-gallery').click();
    const panel = page.getByTestId('gallery-samplers');
    await panel.getByTestId('samplers-show').click();
    await panel.getByTestId('sampler-two-stage').locator('canvas').first().waitFor({ timeout: 180_000 });
    for (const name of ['prior', 'diagonal', 'full', 'gmm', 'two-stage'])
      expect(await panel.getByTestId(`sampler-${name}`).locator('canvas').count()).toBe(8);
    await expect.poll(async () => panel.getByTestId('sampler-gmm').textContent()).toMatch(/k = \d+/);
    expect(await panel.textContent()).toMatch(/Not measured yet/);
    const before = await panel.getByTestId('sampler-full').locator('canvas').first().screenshot();
    await panel.getByTestId('samplers-show').click();
    await expect
      .poll(
        async () =>
          Buffer.compare(await panel.getByTestId('sampler-full').locator('canvas').first().screenshot(), before) !== 0,
        { timeout: 60_000 },
      )
      .toBe(true);
    expect(errors).toEqual([]);
  }, 400_000);

  it('Use for this run makes a sampler the run’s own: marked chosen, and still after a reload', async () => {
    const panel = page.getByTestId('gallery-samplers');
    // the run has no remembered sampler yet: nothing is marked, every sampler that applies has the button
    expect(await panel.getByTestId('sampler-chosen').count()).toBe(0);
    await panel.getByTestId('sampler-use-gmm').click();
    await panel.getByTestId('sampler-gmm').getByTestId('sampler-chosen').waitFor({ timeout: 120_000 });
    expect(await panel.getByTestId('sampler-use-gmm').count()).toBe(0);
    expect(await panel.getByTestId('sampler-chosen').count()).toBe(1);
    await panel.screenshot({ path: screenshotPath('gallery-samplers') });

    await page.reload();
    await page.getByTestId('nav-gallery').click();
    const again = page.getByTestId('gallery-samplers');
    await again.getByTestId('samplers-show').click();
    await again.getByTestId('sampler-gmm').getByTestId('sampler-chosen').waitFor({ timeout: 180_000 });
    expect(await again.getByTestId('sampler-chosen').count()).toBe(1);
    expect(await again.getByTestId('sampler-use-full').count()).toBe(1);
    expect(errors).toEqual([]);
  }, 400_000);
});
