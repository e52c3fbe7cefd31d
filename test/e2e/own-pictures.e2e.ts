// End to end: a person with their own colour pictures in `npm run serve`, in Chromium.
// A folder picked through the real file input keeps its sub-folder labels; a discarded pick leaves
// nothing in the workspace; the Model view switches to the new dataset and says when a run is too
// short, keeps the network summary when only a training field is wrong and drops measured speeds
// when the model changes; in the Gallery each reconstruction sits exactly under its original (bounding boxes
// measured in the page), there is no noisy row without noise, and the latent map names the labels;
// after a reload the Model view, the run list's order, a finished run's speed and previews are
// as they were; a run's name is kept.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../helpers/serve-process';
import { launchChromium, screenshotPath } from '../helpers/browser';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let workspace: string;
let pics: string;
const errors: string[] = [];
const LABELS = ['apps', 'files', 'folders'];

/** A colour picture per label: a tinted gradient with a light disc at a varying spot. */
async function picture(label: number, i: number): Promise<Buffer> {
  const W = 48;
  const px = Buffer.alloc(W * W * 3);
  const tint = [
    [220, 60, 40],
    [40, 160, 220],
    [90, 200, 80],
  ][label];
  for (let y = 0; y < W; y++)
    for (let x = 0; x < W; x++) {
      const inside = Math.hypot(x - 14 - (i % 7) * 3, y - 16 - (i % 5) * 3) < 9;
      for (let c = 0; c < 3; c++)
        px[(y * W + x) * 3 + c] = inside ? 255 - tint[c] : Math.round((tint[c] * (x + y)) / (2 * W));
    }
  return sharp(px, { raw: { width: W, height: W, channels: 3 } })
    .png()
    .toBuffer();
}

beforeAll(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-own-'));
  pics = path.join(tmp, 'pics');
  for (const [l, name] of LABELS.entries()) {
    fs.mkdirSync(path.join(pics, name), { recursive: true });
    for (let i = 0; i < 30; i++)
      fs.writeFileSync(path.join(pics, name, `${name}-${String(i).padStart(2, '0')}.png`), await picture(l, i));
  }
  fs.writeFileSync(path.join(pics, 'files', 'notes.png'), 'not a picture');
  workspace = path.join(tmp, 'ws');
  serve = await startServe(['--workspace', workspace]);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(serve.url + '#/datasets');
  await page.getByText(/Backend: tensorflow/).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

const uploads = () =>
  fs.existsSync(path.join(workspace, 'uploads')) ? fs.readdirSync(path.join(workspace, 'uploads')) : [];
const status = async () => (await page.getByTestId('run-status').textContent())?.trim();

describe('your own pictures in the studio', () => {
  it('keeps the sub-folder labels of a folder chosen with "Choose a folder…", and a discarded pick leaves nothing behind', async () => {
    await page.getByTestId('import-size').selectOption('32');
    await page.locator('select').nth(1).selectOption('rgb');
    await page.getByTestId('pick-folder').setInputFiles(pics);
    await page.getByTestId('import-preview').waitFor({ timeout: 60_000 });
    const captions = await page.locator('[data-testid="import-preview"] figcaption').allTextContents();
    expect(new Set(captions)).toEqual(new Set(LABELS)); // not "pics"
    expect(uploads()).toHaveLength(1);
    await page.getByRole('button', { name: 'Discard' }).click();
    await expect.poll(uploads, { timeout: 10_000 }).toEqual([]);

    await page.getByTestId('pick-folder').setInputFiles(pics);
    await page.getByTestId('import-start').waitFor({ timeout: 60_000 });
    await page.getByTestId('import-start').click();
    const report = page.getByTestId('import-report');
    await report.waitFor({ timeout: 60_000 });
    expect((await report.textContent())?.replace(/\s+/g, ' ')).toMatch(
      /Imported 90 images.*apps: 30 · files: 30 · folders: 30 · 1 skipped/,
    );
    await expect.poll(uploads, { timeout: 10_000 }).toEqual([]);
    // the card's preview shows every label
    await page.locator('[data-testid="dataset-preview"] canvas').first().waitFor();
    const shown = await page
      .locator('[data-testid="dataset-preview"] canvas')
      .evaluateAll((cs) => cs.map((c) => c.getAttribute('data-label')));
    expect(new Set(shown)).toEqual(new Set(LABELS));
    await page.screenshot({ path: screenshotPath('own-datasets'), fullPage: true });
  });

  it('previews augmentation on the new pictures in the Noise view', async () => {
    await page.getByTestId('nav-noise').click();
    const first = () =>
      page.evaluate(
        `document.querySelector('[data-testid="noise-preview"] [data-row="clean"] canvas')?.toDataURL() ?? ''`,
      );
    await expect.poll(first, { timeout: 30_000 }).not.toBe('');
    const plain = await first();
    await page.getByTestId('augment-flip').check();
    await page.getByTestId('augment-rotate').fill('25');
    await expect
      .poll(
        async () =>
          (await page.locator('[data-testid="noise-preview"] [data-row="clean"] .label').textContent())?.trim(),
        { timeout: 10_000 },
      )
      .toBe('Augmented');
    await expect.poll(first, { timeout: 30_000 }).not.toBe(plain);
    await page.getByTestId('augment-flip').uncheck();
    await page.getByTestId('augment-rotate').fill('0');
  });

  it('switches the Model view to the new dataset, says when a run is too short to learn, keeps the summary past a bad training field, drops stale speeds', async () => {
    await page.getByTestId('nav-model').click();
    const chosen = await page.getByTestId('run-dataset').inputValue();
    expect(chosen).toMatch(/^pics-/);
    expect(await page.getByTestId('field-epochs').inputValue()).not.toBe('5'); // suggested for 81 training images
    await page.getByTestId('field-epochs').fill('3');
    expect(await page.getByTestId('epoch-advice').textContent()).toMatch(
      /3 epochs on 81 training images give 9 steps\./,
    );
    await page.getByTestId('field-epochs').fill('6');
    // an invalid training field (validation split) keeps the network summary, which only the architecture decides
    await page.getByTestId('field-validationSplit').fill('0.9');
    await page.getByTestId('error-validationSplit').waitFor({ timeout: 5_000 });
    expect(await page.getByTestId('model-summary').isVisible()).toBe(true);
    await page.getByTestId('field-validationSplit').fill('0.1');
    // the measured speeds belong to the model they were measured on: a training field keeps them, a model change drops them
    await page.getByTestId('measure-speed').click();
    await page.getByTestId('speed-table').waitFor({ timeout: 60_000 });
    await page.getByTestId('field-epochs').fill('7');
    expect(await page.getByTestId('speed-table').count()).toBe(1);
    await page.getByTestId('field-latentDim').fill('12');
    await expect.poll(() => page.getByTestId('speed-table').count(), { timeout: 5_000 }).toBe(0);
    await page.getByTestId('field-latentDim').fill('16');
    await page.getByTestId('field-epochs').fill('6');
    await page.screenshot({ path: screenshotPath('own-model'), fullPage: true });
    await page.getByTestId('model-train').click();
    await page.getByTestId('run-panel').waitFor({ timeout: 10_000 });
    await expect.poll(status, { timeout: 120_000 }).toBe('completed');
    expect(await page.getByTestId('run-name').getAttribute('placeholder')).toMatch(/Convolutional, 16-d code/);
  });

  it('keeps each reconstruction under its original in the Gallery, with no noisy row and the label names', async () => {
    await page.getByTestId('run-open-gallery').click();
    const triplets = page.getByTestId('gallery-triplets');
    await triplets.waitFor({ timeout: 60_000 });
    expect(await triplets.locator('figure[data-row="noisy"]').count()).toBe(0); // trained without noise
    const centres = (row: string) =>
      triplets.locator(`figure[data-row="${row}"] canvas`).evaluateAll((cs) =>
        cs.map((c) => {
          const r = c.getBoundingClientRect();
          return r.left + r.width / 2;
        }),
      );
    const originals = await centres('originals');
    const reconstructions = await centres('reconstructions');
    expect(originals).toHaveLength(9); // the 9 validation images
    expect(reconstructions).toHaveLength(originals.length);
    for (const [i, x] of originals.entries()) expect(Math.abs(reconstructions[i] - x), `column ${i}`).toBeLessThan(1);
    const worst = page.getByTestId('gallery-worst');
    await worst.waitFor({ timeout: 60_000 });
    const wo = await worst
      .locator('figure[data-row="originals"] canvas')
      .evaluateAll((cs) => cs.map((c) => c.getBoundingClientRect().left));
    const wr = await worst
      .locator('figure[data-row="reconstructions"] canvas')
      .evaluateAll((cs) => cs.map((c) => c.getBoundingClientRect().left));
    expect(wr.map((x, i) => Math.abs(x - wo[i])).every((d) => d < 1)).toBe(true);

    await page.getByTestId('gallery-latent').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('latent-legend').locator('li').allTextContents()).toEqual(LABELS);
    const spot = (await page.evaluate(`(() => {
      const c = document.querySelector('[data-testid="latent-map"]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let y = 12; y < c.height - 12; y++) for (let x = 12; x < c.width - 12; x++) if (d[(y * c.width + x) * 4 + 3] === 255) return [x, y];
      return null;
    })()`)) as [number, number];
    await page.getByTestId('latent-map').scrollIntoViewIfNeeded();
    const box = (await page.getByTestId('latent-map').boundingBox())!;
    await page.mouse.move(box.x + spot[0] + 3, box.y + spot[1] + 3);
    await page.mouse.move(box.x + spot[0] + 1.5, box.y + spot[1] + 1.5);
    await page.getByTestId('latent-hover').waitFor({ timeout: 10_000 });
    expect(LABELS).toContain((await page.getByTestId('latent-hover').textContent())?.trim());
    // interpolation ends are chosen by clicking images, not by typing numbers
    const firstStep = () =>
      page.evaluate(`document.querySelector('[data-testid="gallery-interpolation"] .row canvas').toDataURL()`);
    const before = await firstStep();
    await page.getByTestId('interpolation-ends').getByTestId('pick-4').click();
    expect(await page.getByTestId('interpolation-ends').locator('.mark').allTextContents()).toEqual(['B', 'A']);
    await expect.poll(firstStep, { timeout: 20_000 }).not.toBe(before);
    await page.screenshot({ path: screenshotPath('own-gallery'), fullPage: true });
  });

  it('tries new pictures on the finished run (Try it): reconstruction, error, code and how unusual each is', async () => {
    const dir = path.dirname(pics);
    fs.writeFileSync(path.join(dir, 'new-app.png'), await picture(0, 11));
    await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .png()
      .toFile(path.join(dir, 'white.png'));
    await page.getByTestId('try-pick').setInputFiles([path.join(dir, 'new-app.png'), path.join(dir, 'white.png')]);
    await expect.poll(() => page.getByTestId('try-result').count(), { timeout: 30_000 }).toBe(2);
    const rows = page.getByTestId('try-result');
    expect(await rows.nth(0).locator('canvas').count()).toBe(2); // the picture as the model sees it, its reconstruction
    expect(await rows.nth(0).textContent()).toMatch(/new-app\.png.*MSE 0\.\d{4} · PSNR [\d.]+ dB · SSIM -?[\d.]+/);
    expect((await rows.nth(0).getByTestId('try-code').textContent())?.split(',').length).toBeGreaterThanOrEqual(8);
    expect(await rows.nth(1).getByTestId('try-unusual').textContent()).toMatch(/unusual|unlike what the model learned/);
    await page.getByTestId('gallery-try').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('own-try-it'), fullPage: true });
  });

  it('after a reload: the Model view, the runs newest first, a finished run with its speed and previews, its name', async () => {
    await page.getByTestId('nav-train').click();
    await page.getByTestId('run-name').fill('Icons, first try');
    await page.getByTestId('run-name').press('Enter');
    await page.getByTestId('run-epochs').fill('1');
    await page.getByTestId('train-start').click();
    await expect.poll(() => page.getByTestId('run-list').locator('tbody tr').count(), { timeout: 10_000 }).toBe(2);
    // the new run (first row) is the one shown, and it has finished
    const newestShownAndDone = async () =>
      `${await page.getByTestId('run-list').locator('tbody tr').first().getAttribute('class')}:${await status()}`;
    await expect.poll(newestShownAndDone, { timeout: 120_000 }).toBe('current:completed');
    const before = await page
      .getByTestId('run-list')
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')));
    await page.waitForTimeout(800); // the draft is saved half a second after the last change

    await page.reload();
    await page.getByTestId('run-panel').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('run-list').locator('tbody tr').count(), { timeout: 10_000 }).toBe(2);
    expect(
      await page
        .getByTestId('run-list')
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run'))),
    ).toEqual(before);
    expect(await page.getByTestId('run-dataset').inputValue()).toMatch(/^pics-/);
    expect(await page.getByTestId('run-epochs').inputValue()).toBe('1');
    const stats = (await page.getByTestId('run-stats').textContent()) ?? '';
    expect(stats).toMatch(/1 of 1 epochs done/);
    expect(Number(/([\d,]+) samples\/s/.exec(stats)?.[1].replace(/,/g, ''))).toBeGreaterThan(0);
    await page.getByTestId('preview-grid').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid="preview-grid"] canvas').count()).toBe(12); // 6 originals + 6 reconstructions
    // the older run, with the name given to it
    await page.locator(`[data-run="${before[1]}"]`).click();
    expect(await page.locator(`[data-run="${before[1]}"]`).textContent()).toMatch(/Icons, first try/);
    await page.getByTestId('preview-grid').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: screenshotPath('own-train-after-reload'), fullPage: true });

    // a theme switch redraws the finished run's chart in the new colours (grid lines included)
    const chart = () => page.evaluate(`document.querySelector('[data-testid="loss-chart"] canvas').toDataURL()`);
    const light = await chart();
    await page.getByTestId('nav-export').click();
    await page.getByTestId('setting-theme').selectOption('dark');
    await page.getByTestId('nav-train').click();
    await expect.poll(chart, { timeout: 10_000 }).not.toBe(light);
    await page.screenshot({ path: screenshotPath('own-train-dark'), fullPage: true });
    await page.getByTestId('nav-export').click();
    await page.getByTestId('setting-theme').selectOption('system');
    await page.getByTestId('nav-train').click();
  });

  it('browses the dataset by label, removes two images and adds more', async () => {
    await page.getByTestId('nav-datasets').click();
    const card = page.locator('[data-testid^="dataset-pics-"]');
    await card.getByTestId('dataset-browse').click();
    await card.getByTestId('browse-label').selectOption({ label: 'files (30)' });
    await expect.poll(() => card.getByTestId('browse-image').count(), { timeout: 10_000 }).toBe(30);
    expect(await card.getByTestId('browse-page').textContent()).toBe('page 1 of 1');
    await card.getByTestId('browse-image').nth(0).click();
    await card.getByTestId('browse-image').nth(3).click();
    await card.getByTestId('browse-remove').click();
    await expect.poll(() => card.getByTestId('browse-image').count(), { timeout: 10_000 }).toBe(28);
    expect(await card.textContent()).toMatch(/88 images/);
    const dir = path.dirname(pics);
    await card.getByTestId('dataset-add').setInputFiles([path.join(dir, 'new-app.png'), path.join(dir, 'white.png')]);
    await page.getByTestId('import-start').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('import-staged').textContent()).toMatch(/2 files ready to add to “pics”/);
    await page.getByTestId('import-start').click();
    await expect
      .poll(async () => (await page.getByTestId('import-report').textContent()) ?? '', { timeout: 60_000 })
      .toMatch(/Imported 2 images into “pics” \(90 in all\)/);
    await expect.poll(async () => (await card.textContent()) ?? '', { timeout: 10_000 }).toMatch(/90 images/);
    await page.screenshot({ path: screenshotPath('own-browse'), fullPage: true });
  });

  it('had no page errors', () => {
    expect(errors).toEqual([]);
  });
});
