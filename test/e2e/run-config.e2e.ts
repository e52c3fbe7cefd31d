// End to end, in Chromium over `npm run serve`, with colour photographs cut out on transparent
// backgrounds and imported on white (as a user's icons or product shots would be):
// - every field of the run configuration set in the Model and Noise views comes back after a
//   reload, left-out labels included, and Train then trains without them;
// - augmentation's shifts and rotations bring in the picture's own edge (white here), not black
//   wedges, in the Noise view's preview;
// - the epochs advice counts the images the run really trains on (left-out labels removed) and
//   follows one rule (no jumps as the epochs change);
// - the Gallery's images (and the interpolation picker) are the run's validation images, never a
//   left-out label; the anomaly marks share one flag colour in both themes; the anomaly ticks and the
//   Train chart's batch-loss line come back after a reload.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../helpers/serve-process';
import { launchChromium, screenshotPath } from '../helpers/browser';
import { samplePhotosDir } from '../helpers/photos';
import { AxeBuilder } from '@axe-core/playwright';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let workspace: string;
let pics: string;
const errors: string[] = [];
/** Label folder → the photographs its pictures are cut from. */
const LABELS: Record<string, string[]> = {
  cat: ['chelsea.png'],
  coffee: ['coffee.png'],
  space: ['astronaut.png', 'rocket.jpg'],
};
const PER_LABEL = 12;

/** A 96×96 crop of a photograph, cut to a disc on a transparent background. */
async function cutOut(file: string, i: number): Promise<Buffer> {
  const img = sharp(file);
  const { width = 0, height = 0 } = await img.metadata();
  const side = Math.min(width, height) - 8 * PER_LABEL;
  const disc = Buffer.from(`<svg width="96" height="96"><circle cx="48" cy="48" r="40" fill="#fff"/></svg>`);
  return img
    .extract({ left: 8 * i, top: 4 * i, width: side, height: side })
    .resize(96, 96)
    .ensureAlpha()
    .composite([{ input: disc, blend: 'dest-in' }])
    .png()
    .toBuffer();
}

beforeAll(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-config-'));
  pics = path.join(tmp, 'cutouts');
  const photos = samplePhotosDir();
  for (const [label, files] of Object.entries(LABELS)) {
    fs.mkdirSync(path.join(pics, label), { recursive: true });
    for (let i = 0; i < PER_LABEL; i++)
      fs.writeFileSync(
        path.join(pics, label, `${label}-${i}.png`),
        await cutOut(path.join(photos, files[i % files.length]), i),
      );
  }
  workspace = path.join(tmp, 'ws');
  serve = await startServe(['--workspace', workspace]);
  browser = await launchChromium();
  // a context of its own: axe-core's Playwright binding opens its own page in it
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(serve.url + '#/datasets');
  await page.getByText(/Backend: tensorflow/).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

/**
 * The Gallery's anomaly marks (threshold line, ROC curve, images above the threshold, the legend's
 * flag, the anomalous ticks) all in the one flag colour of the current theme, legible on its panel.
 */
async function expectOneFlagColour() {
  const got = (await page.evaluate(`(() => {
    const uses = document.querySelector('[data-testid="gallery-uses"]');
    const probe = document.createElement('span');
    probe.style.color = 'var(--flag)';
    uses.appendChild(probe);
    const flag = getComputedStyle(probe).color;
    probe.remove();
    const css = (id) => getComputedStyle(uses.querySelector('[data-testid="' + id + '"]'));
    return {
      flag,
      seen: {
        threshold: css('threshold-line').stroke,
        roc: css('roc-curve').stroke,
        image: css('flagged-image').outlineColor,
        legend: css('legend-flag').color,
        tick: css('anomalous-0').accentColor,
      },
    };
  })()`)) as { flag: string; seen: Record<string, string> };
  expect(got.flag).toMatch(/^rgb/);
  for (const [where, colour] of Object.entries(got.seen)) expect(colour, where).toBe(got.flag);
}

/**
 * The drop-downs of the shown view whose chosen option does not fit (its text measured in the
 * select's own font against the room left of the arrow).
 */
const cutSelects = () =>
  page.evaluate(`(() => {
    const ctx = document.createElement('canvas').getContext('2d');
    const cut = [];
    for (const s of document.querySelectorAll('[data-testid^="view-"] select')) {
      if (!s.offsetParent) continue;
      const cs = getComputedStyle(s);
      ctx.font = cs.fontWeight + ' ' + cs.fontSize + ' ' + cs.fontFamily;
      const text = (s.selectedOptions[0]?.textContent ?? '').trim();
      const need = ctx.measureText(text).width;
      const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 16;
      if (need > room + 1) cut.push((s.dataset.testid || s.getAttribute('aria-label') || 'select') + ': "' + text + '" needs ' + Math.ceil(need) + ' px, has ' + Math.floor(room));
    }
    return cut;
  })()`) as Promise<string[]>;

/** Every field's value in the Model view (inputs, selects, ticks), by test id. */
const modelFields = () =>
  page.evaluate(`(() => {
    const out = {};
    for (const el of document.querySelectorAll('[data-testid="view-model"] input, [data-testid="view-model"] select')) {
      const id = el.getAttribute('data-testid');
      if (id) out[id] = el.type === 'checkbox' ? el.checked : el.value;
    }
    return out;
  })()`) as Promise<Record<string, string | boolean>>;
const runJson = () => page.locator('[data-testid="run-config-json"] pre').textContent();

describe('the run configuration', () => {
  it('imports colour cut-outs on white', async () => {
    await page.getByTestId('import-size').selectOption('32');
    await page.locator('select').nth(1).selectOption('rgb');
    await page.getByTestId('import-background').selectOption('white');
    await page.getByTestId('pick-folder').setInputFiles(pics);
    await page.getByTestId('import-start').waitFor({ timeout: 60_000 });
    await page.getByTestId('import-start').click();
    const report = page.getByTestId('import-report');
    await report.waitFor({ timeout: 60_000 });
    expect((await report.textContent())?.replace(/\s+/g, ' ')).toMatch(
      /Imported 36 images.*cat: 12 · coffee: 12 · space: 12/,
    );
    // the card says how its images were converted (what Add images… will do to new ones)
    expect(await page.locator('[data-testid^="dataset-cutouts-"]').getByTestId('dataset-converted').textContent()).toBe(
      '· imported at 32×32 RGB, stretch, on white',
    );
  });

  it('comes back whole after a reload: every field of the Model view, the left-out labels, the augmentation', async () => {
    await page.getByTestId('nav-model').click();
    expect(await page.getByTestId('run-dataset').inputValue()).toMatch(/^cutouts-/);
    const kind = page.getByTestId('field-kind');
    await kind.selectOption('sparse');
    await page.getByTestId('field-l1').fill('0.002');
    await kind.selectOption('conv-vae');
    const fill: Array<[string, string]> = [
      ['field-latentDim', '8'],
      ['field-hidden', '8, 16'],
      ['field-beta', '0.5'],
      ['field-learningRate', '0.003'],
      ['field-batchSize', '8'],
      ['field-epochs', '2'],
      ['field-validationSplit', '0.15'],
      ['field-earlyStoppingPatience', '3'],
      ['field-seed', '7'],
      ['field-klWarmupEpochs', '1'],
      ['field-testSplit', '0.1'],
      ['run-count', '34'],
    ];
    for (const [id, v] of fill) await page.getByTestId(id).fill(v);
    await page.getByTestId('field-kernelSize').selectOption('5');
    await page.getByTestId('field-activation').selectOption('elu');
    await page.getByTestId('field-optimizer').selectOption('rmsprop');
    await page.getByTestId('field-momentum').fill('0.8');
    await page.getByTestId('field-noise').selectOption('masking');
    await page.getByTestId('field-noise-level').fill('0.15');
    await page.getByTestId('field-balanceClasses').check();
    await page.getByTestId('exclude-0').check(); // cats are the anomaly
    // random crops: offered for the 32 px pictures; the model then takes 16×16 crops
    await page.getByTestId('field-crops').check();
    expect(await page.getByTestId('field-cropSize').inputValue()).toBe('16');
    await page.getByTestId('nav-noise').click();
    await page.getByTestId('augment-flip').check();
    await page.getByTestId('augment-shift').fill('0.1');
    await page.getByTestId('augment-rotate').fill('15');
    await page.getByTestId('augment-brightness').fill('0.1');
    await page.getByTestId('nav-model').click();
    expect(await page.getByTestId('model-invalid').count()).toBe(0);

    const before = await modelFields();
    const json = await runJson();
    const config = JSON.parse(json ?? '{}') as { config: Record<string, unknown>; dataset: Record<string, unknown> };
    // the form really holds what was set (so the comparison below compares something)
    expect(config.config).toMatchObject({
      kind: 'conv-vae',
      latentDim: 8,
      hidden: [8, 16],
      kernelSize: 5,
      activation: 'elu',
      beta: 0.5,
      l1: 0.002,
      optimizer: 'rmsprop',
      learningRate: 0.003,
      momentum: 0.8,
      batchSize: 8,
      epochs: 2,
      validationSplit: 0.15,
      earlyStoppingPatience: 3,
      seed: 7,
      klWarmupEpochs: 1,
      testSplit: 0.1,
      balanceClasses: true,
      excludeLabels: [0],
      noise: { type: 'masking', level: 0.15 },
      augment: { flip: true, shift: 0.1, rotate: 15, brightness: 0.1 },
      cropSize: 16,
      inputShape: [16, 16, 3],
    });
    expect(config.dataset.count).toBe(34);
    await page.waitForTimeout(900); // the draft is saved half a second after the last change

    await page.reload();
    await page.getByTestId('view-model').waitFor({ timeout: 30_000 });
    await expect.poll(runJson, { timeout: 10_000 }).toBe(json);
    expect(await modelFields()).toEqual(before);
    expect(await page.getByTestId('exclude-0').isChecked()).toBe(true);
    // the Train view says what Train starts, left-out label included
    await page.getByTestId('nav-train').click();
    expect(await page.getByTestId('run-describe').textContent()).toMatch(/16-px crops · without cat/);
    await page.screenshot({ path: screenshotPath('config-train-after-reload'), fullPage: true });
  });

  it('fills what augmentation brings in with the picture’s white surround, not black, in the Noise view', async () => {
    await page.getByTestId('nav-noise').click();
    const preview = page.getByTestId('noise-preview');
    const first = () =>
      page.evaluate(
        `document.querySelector('[data-testid="noise-preview"] [data-row="clean"] canvas')?.toDataURL() ?? ''`,
      ) as Promise<string>;
    const label = async () => (await preview.locator('[data-row="clean"] .label').textContent())?.trim();
    /** Pixels of the clean row that are black or nearly (every channel under 16), over all its pictures. */
    const black = () =>
      page.evaluate(`[...document.querySelectorAll('[data-testid="noise-preview"] [data-row="clean"] canvas')].reduce((n, c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) < 16) n++;
        return n;
      }, 0)`) as Promise<number>;
    const settled = async (before: string) => {
      await expect.poll(first, { timeout: 30_000 }).not.toBe(before);
      await expect.poll(() => preview.getAttribute('data-loading'), { timeout: 30_000 }).toBe('false');
    };
    await expect.poll(first, { timeout: 30_000 }).not.toBe('');
    // the pictures as imported: how much black they hold of their own
    let shown = await first();
    const wasAugmented = (await label()) === 'Augmented';
    await page.getByTestId('augment-flip').uncheck();
    for (const k of ['shift', 'rotate', 'brightness']) await page.getByTestId(`augment-${k}`).fill('0');
    await expect.poll(label, { timeout: 10_000 }).not.toBe('Augmented');
    if (wasAugmented) await settled(shown);
    const own = await black();
    shown = await first();
    // the largest shifts and rotations: black wedges would add hundreds of black pixels to every picture
    await page.getByTestId('augment-shift').fill('0.3');
    await page.getByTestId('augment-rotate').fill('45');
    await expect.poll(label, { timeout: 10_000 }).toBe('Augmented');
    await settled(shown);
    const pictures = await preview.locator('[data-row="clean"] canvas').count();
    expect(pictures).toBeGreaterThan(3);
    await preview.scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('config-noise-augment-white'), fullPage: true });
    expect(await black()).toBeLessThanOrEqual(own + 8 * pictures);
    await page.getByTestId('augment-flip').check();
    await page.getByTestId('augment-shift').fill('0.1');
    await page.getByTestId('augment-rotate').fill('15');
    await page.getByTestId('augment-brightness').fill('0.1');
  });

  it('advises epochs from the images the run really trains on, with one rule, and trains without the left-out label', async () => {
    await page.getByTestId('nav-model').click();
    const advice = () => page.getByTestId('epoch-advice').textContent();
    // 34 images less 5 for validation and 3 for testing, less the cats' share: about 17 training images, 3 batches of 8
    expect(await advice()).toMatch(
      /2 epochs on 17 training images \(1 label left out\) give 6 steps\. 100 epochs are enough\./,
    );
    // one rule: the same suggestion at every epoch count below it, no advice from it on
    for (const e of ['10', '38', '99']) {
      await page.getByTestId('field-epochs').fill(e);
      expect(await advice()).toMatch(/100 epochs are enough/);
    }
    await page.getByTestId('field-epochs').fill('100');
    expect(await page.getByTestId('epoch-advice').count()).toBe(0);
    await page.getByTestId('field-epochs').fill('2');

    await page.getByTestId('model-train').click();
    await page.getByTestId('run-panel').waitFor({ timeout: 10_000 });
    await expect
      .poll(async () => (await page.getByTestId('run-status').textContent())?.trim(), { timeout: 120_000 })
      .toBe('completed');
    const runs = fs.readdirSync(path.join(workspace, 'runs'));
    expect(runs).toHaveLength(1);
    type Saved = {
      name: string;
      config: { excludeLabels: number[] };
      metrics?: { train: { count: number }; trainLabelCounts: Array<{ label: number }> };
    };
    const saved = () => JSON.parse(fs.readFileSync(path.join(workspace, 'runs', runs[0], 'run.json'), 'utf8')) as Saved;
    // run.json is written through the host's queue, a moment after the status reaches the page
    await expect.poll(() => !!saved().metrics, { timeout: 10_000 }).toBe(true);
    const run = saved() as Required<Saved>;
    expect(run.config.excludeLabels).toEqual([0]);
    expect(run.name).toBe('Convolutional VAE, 8-d code, denoising, 16-px crops on cutouts without cat'); // the name says what differs
    expect(run.metrics.trainLabelCounts.map((c) => c.label)).toEqual([1, 2]); // no cat trained on
    expect(Math.abs(run.metrics.train.count - 17)).toBeLessThanOrEqual(3); // the advice's count, up to how the random split fell
    await page.screenshot({ path: screenshotPath('config-trained'), fullPage: true });

    // each Gallery panel says which images it covers
    await page.getByTestId('run-open-gallery').click();
    await page.getByTestId('covers-worst').waitFor({ timeout: 60_000 });
    // the run trained on 16 px crops: the Gallery says its panels show crops
    expect(await page.getByTestId('gallery-crops').textContent()).toMatch(/random 16×16 crops/);
    // the validation images the run held out, less the left-out cats; the interpolation picker offers the same
    const firstN = (await page.getByTestId('covers-triplets').textContent())!.match(
      /^The first (\d+) validation images \(held out: never trained on\)\.$/,
    );
    expect(Number(firstN?.[1])).toBeGreaterThan(0);
    expect(Number(firstN?.[1])).toBeLessThanOrEqual(5);
    expect((await page.getByTestId('covers-interpolation').textContent())?.trim()).toBe(
      `Click two of the first ${firstN?.[1]} validation images (held out: never trained on) to choose the ends (A, then B).`,
    );
    expect(await page.getByTestId('interpolation-ends').locator('canvas').count()).toBe(Number(firstN?.[1]));
    expect(await page.getByTestId('covers-worst').textContent()).toMatch(/worst of the first 500 validation images/);
    await page.getByTestId('covers-anomalies').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('covers-anomalies').textContent()).toMatch(
      /Every image the run never trained on \(\d+: validation, test and left-out labels\)/,
    );
    // the left-out cats ticked anomalous: one flag colour in every panel
    await page.getByTestId('anomalous-0').check();
    await page.getByTestId('roc-curve').waitFor({ timeout: 60_000 });
    await expectOneFlagColour();
    await page.getByTestId('uses-anomalies').screenshot({ path: screenshotPath('config-gallery-flags-light') });

    // after a reload the Train chart still draws the batch losses
    await page.reload();
    await page.getByTestId('nav-train').click();
    await expect
      .poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-batch-points')), {
        timeout: 20_000,
      })
      .toBeGreaterThan(2);
    expect(errors).toEqual([]);
  });
});

describe('accessibility', () => {
  it('Tab reaches "Choose files…", "Choose a folder…" and "Add images…"', async () => {
    await page.getByTestId('nav-datasets').click();
    await page.getByTestId('view-datasets').waitFor();
    await page.getByTestId('nav-datasets').focus();
    const reached = new Set<string>();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      reached.add((await page.evaluate(`document.activeElement?.getAttribute('data-testid') ?? ''`)) as string);
    }
    expect([...reached]).toEqual(expect.arrayContaining(['pick-files', 'pick-folder', 'dataset-add']));
  });

  it('every view, in both themes, has no serious or critical axe-core violation and no drop-down that cuts off its choice', async () => {
    const found: string[] = [];
    for (const theme of ['light', 'dark'] as const) {
      await page.getByTestId('nav-export').click();
      await page.getByTestId('setting-theme').selectOption(theme);
      await expect
        .poll(() => page.evaluate(`document.documentElement.dataset.theme ?? ''`), { timeout: 5_000 })
        .toBe(theme);
      for (const view of ['datasets', 'model', 'noise', 'train', 'gallery', 'export']) {
        await page.getByTestId(`nav-${view}`).click();
        await page.getByTestId(`view-${view}`).waitFor({ timeout: 10_000 });
        await page.waitForTimeout(view === 'gallery' ? 3_000 : 300);
        const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
        for (const v of r.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical'))
          found.push(
            `${theme} ${view}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes
              .map((n) => n.target.join(' '))
              .slice(0, 4)
              .join(' | ')}`,
          );
        await page.screenshot({ path: screenshotPath(`config-a11y-${view}-${theme}`), fullPage: true });
        for (const c of await cutSelects()) found.push(`${theme} ${view}: drop-down cut off — ${c}`);
        if (view === 'gallery') {
          // the anomaly ticks came back after the reload, and the flags keep one colour in this theme too
          await page.getByTestId('roc-curve').waitFor({ timeout: 60_000 });
          await expectOneFlagColour();
          await page
            .getByTestId('uses-anomalies')
            .screenshot({ path: screenshotPath(`config-gallery-flags-${theme}`) });
        }
      }
    }
    expect(found, found.join('\n')).toEqual([]);
  });
});
