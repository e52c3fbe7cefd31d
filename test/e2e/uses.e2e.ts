// End to end: the classic anomaly setup in `npm run serve` in Chromium — a dense AE on built-in
// MNIST trained on every digit except 2 with a test split (Model view), then in the Gallery: the
// probes on the codes next to pixels and PCA, the confusion matrix, per-class counts and errors,
// the error histogram with a movable threshold, digit 2 marked anomalous → ROC curve and AUC.
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
  serve = await startServe(['--workspace', fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-uses-'))]);
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

describe('anomalies and features from the Model view to the Gallery', () => {
  it('trains on all digits except 2 with a test split, then shows probes, per-class errors and the AUC of digit 2', async () => {
    await page.getByTestId('preset-deep-dense').click();
    await page.getByTestId('field-epochs').fill('3');
    await page.getByTestId('run-count').fill('4000');
    await page.getByTestId('field-testSplit').fill('0.1');
    await page.getByTestId('exclude-2').check();
    await page.screenshot({ path: screenshotPath('model-uses'), fullPage: true });
    await page.getByTestId('model-train').click();
    await page.getByTestId('run-panel').waitFor({ timeout: 15_000 });
    await expect
      .poll(async () => (await page.getByTestId('run-status').textContent())?.trim(), { timeout: 180_000 })
      .toBe('completed');

    await page.getByTestId('nav-gallery').click();
    const uses = page.getByTestId('gallery-uses');
    await uses.getByTestId('probe-codes').waitFor({ timeout: 120_000 });
    expect(Number(await uses.getByTestId('end-test').locator('td').nth(1).textContent())).toBe(400);
    await uses.getByTestId('end-validation').waitFor();
    const pctOf = async (id: string) =>
      Number((await uses.getByTestId(id).locator('td').nth(2).textContent())!.replace('%', ''));
    expect(await pctOf('probe-codes')).toBeGreaterThan(60);
    expect(await pctOf('probe-pixels')).toBeGreaterThan(60);
    expect(await uses.getByTestId('class-2').locator('td').nth(2).textContent()).toBe('0'); // never trained on
    expect(Number(await uses.getByTestId('above-count').textContent())).toBeGreaterThan(0);
    const before = Number(await uses.getByTestId('above-count').textContent());
    await uses.getByTestId('threshold').fill('2');
    await expect.poll(async () => Number(await uses.getByTestId('above-count').textContent())).toBeGreaterThan(before);
    await uses.getByTestId('anomalous-2').check();
    await uses.getByTestId('auc').waitFor({ timeout: 60_000 });
    expect(Number(await uses.getByTestId('auc').textContent())).toBeGreaterThan(0.6);
    await uses.getByTestId('uses-features').screenshot({ path: screenshotPath('gallery-features') });
    await uses.getByTestId('uses-anomalies').screenshot({ path: screenshotPath('gallery-anomalies') });
    await page.screenshot({ path: screenshotPath('gallery-uses'), fullPage: true });
    expect(errors).toEqual([]);
  }, 400_000);
});
