// `npm run screenshots`: remakes the README's screenshots in assets/ (not part of `npm test`).
// 1. Makes a folder "Photos" of 400 colour pictures in five labelled sub-folders: square crops
//    (seeded, so every run makes the same ones) of scikit-image's sample photographs, one photo per
//    label (test/helpers/photos.ts takes them from the local pip index).
// 2. Starts the real `npm run serve` build on a fresh workspace and Debian's Chromium.
// 3. Drives the UI as a person would: imports the folder through the Datasets view's real file
//    input at 32×32 RGB, picks the conv preset in the Model view with the epochs it suggests,
//    trains, waits for the run to finish, tries three photographs in the Gallery, sets Gaussian
//    noise in the Noise view.
// 4. Writes assets/screenshot-{datasets,model,train,train-dark,gallery,noise}.png at the viewport
//    sizes the README has always used. Needs `npm run build` first (the npm script does it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { samplePhotosDir } from '../helpers/photos';
import { startServe } from '../helpers/serve-process';
import { launchChromium, screenshotPath } from '../helpers/browser';
import { repoRoot } from '../helpers/trainer';
import { mulberry32 } from '../../src-main/engine/rng'; // seeded, so the folder is the same on every machine

/** Label → the sample photograph its pictures are cut from. */
const SOURCES: Record<string, string> = {
  astronaut: 'astronaut.png',
  cat: 'chelsea.png',
  coffee: 'coffee.png',
  rocket: 'rocket.jpg',
  space: 'hubble_deep_field.jpg',
};
const PER_LABEL = 80;
/** Photographs given to "Try it" in the Gallery: two like the training pictures, one (grey) unlike them. */
const TRY_IT = ['chelsea.png', 'coffee.png', 'camera.png'];
const TRAIN_TIMEOUT_MS = 20 * 60_000;

/** PER_LABEL square crops (35–80 % of the short side, anywhere in the photo, every other one mirrored) per label, 64×64 PNG. */
async function makePhotos(dir: string): Promise<void> {
  const photos = samplePhotosDir();
  const rnd = mulberry32(404);
  for (const [label, file] of Object.entries(SOURCES)) {
    const src = path.join(photos, file);
    const { width = 0, height = 0 } = await sharp(src).metadata();
    fs.mkdirSync(path.join(dir, label), { recursive: true });
    for (let i = 0; i < PER_LABEL; i++) {
      const side = Math.round(Math.min(width, height) * (0.35 + 0.45 * rnd()));
      const left = Math.floor(rnd() * (width - side + 1));
      const top = Math.floor(rnd() * (height - side + 1));
      let img = sharp(src).removeAlpha().extract({ left, top, width: side, height: side }).resize(64, 64);
      if (i % 2 === 1) img = img.flop();
      await img.png().toFile(path.join(dir, label, `${label}-${String(i).padStart(3, '0')}.png`));
    }
  }
}

async function poll<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function shot(page: Page, name: string, width: number, height: number): Promise<void> {
  await page.setViewportSize({ width, height });
  // no focus ring on the last button pressed, scrolled to the top
  await page.evaluate(
    'document.activeElement?.blur?.(); window.scrollTo(0, 0); document.querySelector("main")?.scrollTo?.(0, 0)',
  );
  await page.waitForTimeout(600); // charts and canvases redraw at the new size
  const file = path.join(repoRoot, 'assets', `screenshot-${name}.png`);
  await page.screenshot({ path: file });
  console.log(`wrote ${path.relative(repoRoot, file)} (${width}×${height})`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-readme-shots-'));
const pics = path.join(tmp, 'Photos');
await makePhotos(pics);
console.log(`made ${Object.keys(SOURCES).length * PER_LABEL} pictures in ${pics}`);
const serve = await startServe(['--workspace', path.join(tmp, 'workspace')]);
const browser = await launchChromium();
const errors: string[] = [];
const context = await browser.newContext({ viewport: { width: 1280, height: 1500 }, colorScheme: 'light' });
const page = await context.newPage();
try {
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(serve.url + '#/datasets');
  await page.getByText(/Backend: tensorflow/).waitFor({ timeout: 60_000 });

  // Datasets: the folder through "Choose a folder…", at 32×32 in colour
  await page.getByTestId('import-size').selectOption('32');
  await page.getByLabel('Colour').selectOption('rgb');
  await page.getByTestId('pick-folder').setInputFiles(pics);
  await page.getByTestId('import-start').waitFor({ timeout: 60_000 });
  await page.getByTestId('import-start').click();
  const report = page.getByTestId('import-report');
  await report.waitFor({ timeout: 120_000 });
  const reported = (await report.textContent())?.replace(/\s+/g, ' ') ?? '';
  if (!/Imported 400 images/.test(reported)) throw new Error(`import: ${reported}`);
  await poll(
    'dataset preview',
    () => page.locator('[data-testid="dataset-preview"] canvas').count(),
    (n) => n > 0,
    30_000,
  );
  await page.getByTestId('dataset-mean').waitFor({ timeout: 30_000 });
  await shot(page, 'datasets', 1280, 1500);

  // Model: the conv preset, the epochs the view suggests, the measured speed
  await page.getByTestId('nav-model').click();
  await poll(
    'dataset in the Model view',
    () => page.getByTestId('run-dataset').inputValue(),
    (v) => /^photos-/i.test(v),
    10_000,
  );
  await page.getByTestId('preset-conv').click();
  // a new dataset comes with the epochs it needs; where the view still says the run is too short, take its suggestion
  if (await page.getByTestId('use-suggested-epochs').count()) await page.getByTestId('use-suggested-epochs').click();
  await poll(
    'epoch advice',
    () => page.getByTestId('epoch-advice').count(),
    (n) => n === 0,
    5_000,
  );
  const epochs = Number(await page.getByTestId('field-epochs').inputValue());
  if (epochs < 50) throw new Error(`the Model view suggests only ${epochs} epochs`);
  console.log(`epochs (as the Model view suggests): ${epochs}`);
  await page.getByTestId('measure-speed').click();
  await page.getByTestId('speed-table').waitFor({ timeout: 120_000 });
  await shot(page, 'model', 1280, 1500);

  // Train: until the run has finished
  await page.getByTestId('model-train').click();
  await page.getByTestId('run-panel').waitFor({ timeout: 30_000 });
  const started = Date.now();
  await poll(
    'run status',
    async () => (await page.getByTestId('run-status').textContent())?.trim(),
    (s) => s === 'completed' || s === 'failed',
    TRAIN_TIMEOUT_MS,
  );
  if ((await page.getByTestId('run-status').textContent())?.trim() !== 'completed')
    throw new Error(`the run failed: ${await page.getByTestId('run-panel').textContent()}`);
  console.log(`trained ${epochs} epochs in ${Math.round((Date.now() - started) / 1000)} s`);
  await page.getByTestId('run-step').waitFor({ timeout: 10_000 });
  await page.getByTestId('preview-grid').waitFor({ timeout: 10_000 });
  await shot(page, 'train', 1280, 1500);

  // the same in the dark theme
  await page.getByTestId('nav-export').click();
  await page.getByTestId('setting-theme').selectOption('dark');
  await page.getByTestId('nav-train').click();
  await page.getByTestId('run-step').waitFor({ timeout: 10_000 });
  await shot(page, 'train-dark', 1280, 900);
  await page.getByTestId('nav-export').click();
  await page.getByTestId('setting-theme').selectOption('system');

  // Gallery: the finished run, with three photographs tried on it
  await page.getByTestId('nav-gallery').click();
  for (const id of ['gallery-triplets', 'gallery-samples', 'gallery-interpolation', 'gallery-latent'])
    await page.getByTestId(id).waitFor({ timeout: 60_000 });
  const photos = samplePhotosDir();
  await page.getByTestId('try-pick').setInputFiles(TRY_IT.map((f) => path.join(photos, f)));
  await poll(
    'Try it',
    () => page.getByTestId('try-result').count(),
    (n) => n === TRY_IT.length,
    60_000,
  );
  await shot(page, 'gallery', 1280, 1500);

  // Noise: Gaussian σ 0.3 on the first pictures
  await page.getByTestId('nav-noise').click();
  await page.getByTestId('noise-type-gaussian').check();
  await page.getByTestId('noise-level').fill('0.3');
  await poll(
    'noise preview',
    () => page.locator('[data-testid="noise-preview"] [data-row="noisy"] canvas').count(),
    (n) => n > 0,
    30_000,
  );
  await poll(
    'noise preview loaded',
    async () => await page.getByTestId('noise-preview').getAttribute('data-loading'),
    (v) => v !== 'true',
    30_000,
  );
  await shot(page, 'noise', 1280, 1000);

  if (errors.length) throw new Error(`page errors:\n${errors.join('\n')}`);
} catch (e) {
  // what the page showed when it went wrong
  await page.screenshot({ path: screenshotPath('readme-failed'), fullPage: true }).catch(() => undefined);
  throw e;
} finally {
  await browser.close();
  await serve.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
