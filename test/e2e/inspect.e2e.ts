// End to end: the Gallery's Inspect panel in `npm run serve` in Chromium. An MVTec-shaped set made
// offline (a woven texture with drawn scratches, blobs and smudges and their exact masks) is
// imported and trained with the inspection preset by the built CLI (a few epochs: calibrated as it
// completes); then, in the Gallery, *Inspect this run* shows the worst pictures with their maps and
// mask outlines, the score histogram and the metric table per defect type; moving the threshold
// changes the pass/fail counts, precision and recall; *Save this threshold* writes it into the run's
// model/inspection.json (method `manual`, the measured one kept); Try it gives a new picture its
// map and verdict. Screenshots in the light and the dark theme.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../helpers/serve-process';
import { launchChromium, screenshotPath } from '../helpers/browser';
import { lastJson, buildMain, builtCliPath, runBuiltCli } from '../helpers/built-cli';
import sharp from 'sharp';
import { texture, writeInspectionSet } from '../helpers/defects';
import { mulberry32 } from '../../src-main/engine/rng';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let work: string;
let ws: string;
let runId: string;
const errors: string[] = [];

const cli = (...args: string[]) => runBuiltCli(work, ...args);

beforeAll(async () => {
  if (!fs.existsSync(builtCliPath)) buildMain();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-inspect-'));
  ws = path.join(work, 'ws');
  await writeInspectionSet(path.join(work, 'fabric'), {
    texture: 'weave',
    size: 32,
    channels: 1,
    train: 40,
    testGood: 6,
    perDefect: 3,
    seed: 5,
  });
  const imp = await cli(
    'import',
    path.join(work, 'fabric'),
    '--workspace',
    ws,
    '--name',
    'Fabric',
    '--size',
    '32',
    '--json',
  );
  expect(imp.code, imp.stderr).toBe(0);
  fs.writeFileSync(
    path.join(work, 'short.json'),
    JSON.stringify({ epochs: 3, earlyStoppingPatience: 0, latentDim: 32, seed: 3, validationSplit: 0.2 }),
  );
  const tr = await cli(
    'train',
    '--workspace',
    ws,
    '--dataset',
    (lastJson(imp.stdout) as { dataset: string }).dataset,
    '--preset',
    'inspection',
    '--config',
    path.join(work, 'short.json'),
    '--json',
  );
  expect(tr.code, tr.stderr).toBe(0);
  runId = (lastJson(tr.stdout) as { runId: string }).runId;
  serve = await startServe(['--workspace', ws]);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(serve.url + '#/gallery');
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const num = async (id: string) => Number((await page.getByTestId(id).textContent())?.replace(/[^\d.]/g, ''));

describe('the Inspect panel', () => {
  it('shows maps worst first, moves and saves the threshold, measures per defect type, and tries a new picture', async () => {
    const panel = page.getByTestId('inspect-panel');
    await panel.getByTestId('inspect-open').click();
    await panel.getByTestId('inspect-histogram').waitFor({ timeout: 120_000 });
    // the 6 good and 9 defective test pictures, worst first, each with its map; defective ones with their mask outline
    expect(await panel.getByTestId('inspect-item').count()).toBe(15);
    expect(await panel.getByTestId('inspect-settings').textContent()).toMatch(
      /15 pictures of the test set 'Fabric \(test\)'.*squared-error map.*F1-adaptive/s,
    );
    const scores = await panel.getByTestId('inspect-item').locator('figcaption').allTextContents();
    const values = scores.map((t) => Number(/(-?[\d.]+)/.exec(t)![1]));
    expect([...values].sort((a, b) => b - a)).toEqual(values);
    // the metric table: all defects and each type
    const rows = await panel.getByTestId('inspect-metrics').locator('tbody tr td:first-child').allTextContents();
    expect(rows).toEqual(['All defects', 'blob', 'scratch', 'smudge']);

    // the threshold at the lowest score flags everything: recall 100 %; at the highest, one picture
    const slider = panel.getByTestId('inspect-threshold');
    const [lo, hi] = [Number(await slider.getAttribute('min')), Number(await slider.getAttribute('max'))];
    await slider.fill(String(lo));
    await expect.poll(() => num('inspect-flagged')).toBe(15);
    expect(await num('inspect-passed')).toBe(0);
    expect(await panel.getByTestId('inspect-recall').textContent()).toBe('100 %');
    expect(await panel.getByTestId('inspect-precision').textContent()).toBe('60 %');
    await slider.fill(String(hi));
    await expect.poll(() => num('inspect-flagged')).toBeLessThanOrEqual(1);
    expect(await num('inspect-passed')).toBeGreaterThanOrEqual(14);
    const mid = lo + (hi - lo) / 2;
    await slider.fill(String(mid));
    const flaggedMid = await num('inspect-flagged');
    expect(flaggedMid + (await num('inspect-passed'))).toBe(15);
    expect(await panel.locator('figure.flagged[data-testid="inspect-item"]').count()).toBe(Math.min(15, flaggedMid));

    // saving writes it with the run: method manual, the measured threshold kept
    const before = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'model', 'inspection.json'), 'utf8')) as {
      threshold: { value: number; method: string };
    };
    expect(before.threshold.method).toBe('f1');
    await panel.getByTestId('inspect-save-threshold').click();
    await panel.getByTestId('inspect-saved').waitFor();
    const after = JSON.parse(fs.readFileSync(path.join(ws, 'runs', runId, 'model', 'inspection.json'), 'utf8')) as {
      threshold: { value: number; method: string; measured: { value: number } };
    };
    expect(after.threshold.method).toBe('manual');
    expect(after.threshold.value).toBeCloseTo(Number(await slider.inputValue()), 9);
    expect(after.threshold.measured.value).toBe(before.threshold.value);

    // Try it: a defective picture of the set gets its map and a verdict
    await panel.getByTestId('inspect-opacity').fill('0.8');
    await panel.getByTestId('inspect-try-pick').setInputFiles(path.join(work, 'fabric', 'test', 'blob', '000.png'));
    const tried = panel.getByTestId('inspect-try-result');
    await tried.waitFor({ timeout: 60_000 });
    expect(await tried.locator('figcaption').textContent()).toMatch(/^(defective|good) -?[\d.]+\s*000\.png/);
    // … and a picture three times the model's size, at its own resolution (overlapping tiles, stitched map)
    const big = path.join(work, 'big.png');
    const rand = mulberry32(9);
    await sharp(
      Buffer.from(Uint8Array.from(texture('weave', 96, 1, rand), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255))),
      { raw: { width: 96, height: 96, channels: 1 } },
    )
      .png()
      .toFile(big);
    await panel.getByTestId('inspect-try-tile').check();
    await panel.getByTestId('inspect-try-pick').setInputFiles(big);
    await expect
      .poll(() => panel.getByTestId('inspect-try-results').textContent(), { timeout: 60_000 })
      .toMatch(/big\.png · full size/);
    expect(await panel.getByTestId('inspect-try-result').locator('canvas').getAttribute('width')).toBe('96');

    await page.setViewportSize({ width: 1280, height: 1900 }); // the whole panel above the status bar
    await panel.screenshot({ path: screenshotPath('gallery-inspect-light') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.evaluate(`document.documentElement.dataset.theme = 'dark'`);
    await panel.screenshot({ path: screenshotPath('gallery-inspect-dark') });
    expect(errors).toEqual([]);
  }, 300_000);
});
