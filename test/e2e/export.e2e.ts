// End to end: the Export view of `npm run serve` in Chromium. A workspace with one trained run
// (trained here by the real engine on real MNIST, then listed by the studio like any run after a
// restart) and an unknown file: the view flags the file, exports the model as ONNX and as
// TensorFlow.js, downloads both (the folder as a zip), imports the TF.js export back as a run the
// Gallery shows, writes the run as a PyTorch cluster job and downloads it as a zip, and
// the theme setting switches the page to dark.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../helpers/serve-process';
import { launchChromium, screenshotPath } from '../helpers/browser';
import { loadMnist, trainRun } from '../../src-main/engine';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let ws: string;
const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-downloads-'));
const runId = 'run-20261124-000000-e2e1';
/** Export files are named by the run's name, made file-safe. */
const base = 'mnist-conv-8-d-code';
const errors: string[] = [];

beforeAll(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-export-'));
  const runDir = path.join(ws, 'runs', runId);
  const config = {
    kind: 'conv',
    inputShape: [28, 28, 1],
    latentDim: 8,
    hidden: [8, 16],
    epochs: 1,
    batchSize: 64,
    previewEvery: 1000,
  };
  const result = await trainRun({ config, dataset: loadMnist(600, { seed: 1 }), runDir });
  expect(result.status).toBe('completed');
  const summary = {
    runId,
    name: 'MNIST: conv, 8-d code',
    status: 'completed',
    config,
    dataset: { builtin: 'mnist', count: 600 },
    epochsDone: result.epochsDone,
    history: result.history,
    startedAt: Date.now(),
  };
  fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify(summary));
  fs.writeFileSync(path.join(ws, 'notes.txt'), 'mine');

  serve = await startServe(['--workspace', ws]);
  browser = await launchChromium();
  const context = await browser.newContext({
    viewport: { width: 1280, height: 1000 },
    acceptDownloads: true,
    colorScheme: 'light',
  });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(serve.url + '#/export');
  await page.getByText(/Backend: tensorflow/).waitFor({ timeout: 60_000 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('the Export view', () => {
  it('shows the workspace with the unknown file flagged', async () => {
    await page.getByTestId('workspace-path').waitFor();
    expect(await page.getByTestId('workspace-path').textContent()).toBe(ws);
    expect(await page.getByTestId('workspace-flagged').textContent()).toContain('notes.txt');
    expect(await page.getByTestId('status-workspace').textContent()).toMatch(/1 flagged/);
  });

  it('exports ONNX and TensorFlow.js and downloads them', async () => {
    await page.getByTestId('export-run').selectOption(runId);
    await page.getByTestId('export-format-onnx').check();
    await page.getByTestId('export-model').click();
    const done = page.getByTestId('export-done');
    await expect
      .poll(async () => (await done.isVisible()) && (await done.textContent()), { timeout: 60_000 })
      .toMatch(/autoencoder\.onnx/);
    const [onnx] = await Promise.all([page.waitForEvent('download'), done.getByText('Download').click()]);
    const onnxFile = path.join(downloads, 'dl.onnx');
    await onnx.saveAs(onnxFile);
    expect(onnx.suggestedFilename()).toBe(`${base}-autoencoder.onnx`);
    expect(fs.statSync(onnxFile).size).toBeGreaterThan(10_000);
    // beside it: how to run it (the same code test/integration/export-snippets.test.ts runs)
    expect(await page.getByTestId('export-snippet').textContent()).toMatch(
      /pip install onnxruntime numpy[\s\S]*ort\.InferenceSession\("[^"]*autoencoder\.onnx"\)/,
    );

    await page.getByTestId('export-format-tfjs').check();
    await page.getByTestId('export-model').click();
    await expect.poll(async () => await done.textContent(), { timeout: 60_000 }).toMatch(/autoencoder-tfjs/);
    const [zip] = await Promise.all([page.waitForEvent('download'), done.getByText('Download').click()]);
    const zipFile = path.join(downloads, 'dl.zip');
    await zip.saveAs(zipFile);
    expect(zip.suggestedFilename()).toBe(`${base}-autoencoder-tfjs.zip`);
    expect(fs.readFileSync(zipFile).subarray(0, 2).toString()).toBe('PK');
    expect(await page.getByTestId('export-list').locator('tbody tr').count()).toBe(2);
    await page.screenshot({ path: screenshotPath('export'), fullPage: true });
  });

  it('imports the TensorFlow.js export back as a run that the Gallery shows', async () => {
    const exportsDir = path.join(ws, 'exports');
    const folder = fs
      .readdirSync(exportsDir)
      .map((id) => path.join(exportsDir, id, `${base}-autoencoder-tfjs`))
      .find((p) => fs.existsSync(p));
    expect(folder).toBeTruthy();
    await page.getByTestId('import-path').fill(folder!);
    await page.getByTestId('import-go').click();
    await page.getByText(/Imported as run imported-/).waitFor({ timeout: 60_000 });
    await page.getByTestId('nav-gallery').click();
    const imported = await page
      .getByTestId('gallery-run')
      .locator('option', { hasText: /^Imported / })
      .getAttribute('value');
    await page.getByTestId('gallery-run').selectOption(imported!);
    await page.getByTestId('gallery-triplets').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('gallery-triplets').locator('canvas').count()).toBeGreaterThan(0);
  });

  it('writes the run as a cluster job, continuing from its checkpoint, and downloads it as a zip', async () => {
    await page.getByTestId('nav-export').click();
    await page.getByTestId('job-run').selectOption(runId);
    expect(await page.getByTestId('job-from-checkpoint').isChecked()).toBe(true);
    await page.getByTestId('job-export').click();
    const done = page.getByTestId('job-done');
    await expect
      .poll(async () => (await done.isVisible()) && (await done.textContent()), { timeout: 60_000 })
      .toMatch(new RegExp(`Wrote ${base}-torch-job`));
    const [zip] = await Promise.all([page.waitForEvent('download'), done.getByText('Download (.zip)').click()]);
    const zipFile = path.join(downloads, 'job.zip');
    await zip.saveAs(zipFile);
    expect(zip.suggestedFilename()).toBe(`${base}-torch-job.zip`);
    const bytes = fs.readFileSync(zipFile);
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    for (const name of [
      'train.py',
      'launch.sh',
      'slurm.sbatch',
      'README.md',
      'job.json',
      'data/dataset.safetensors',
      'init/optimizer.safetensors',
    ])
      expect(bytes.includes(Buffer.from(`${base}-torch-job/${name}`)), name).toBe(true);
    await page.getByTestId('cluster-job').screenshot({ path: screenshotPath('export-cluster-job') });
  });

  it('switches to the dark theme from the settings and keeps it in the workspace', async () => {
    await page.getByTestId('nav-export').click();
    const rgbSum = async () =>
      ((await page.evaluate(`getComputedStyle(document.documentElement).backgroundColor`)) as string)
        .match(/\d+/g)!
        .slice(0, 3)
        .map(Number)
        .reduce((a, b) => a + b, 0);
    expect(await rgbSum()).toBeGreaterThan(600); // light, as the OS says
    await page.getByTestId('setting-theme').selectOption('dark');
    await expect.poll(() => page.evaluate(`document.documentElement.dataset.theme`)).toBe('dark');
    expect(await rgbSum()).toBeLessThan(150); // dark although the OS scheme is light
    expect(JSON.parse(fs.readFileSync(path.join(ws, 'settings.json'), 'utf8')).theme).toBe('dark');
    await page.screenshot({ path: screenshotPath('export-dark'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
