// End to end: `npm run serve` (the real host, the real trainer, the built renderer) in Debian's
// Chromium. The frame loads with the token, navigation works, the status bar shows the native
// backend, requests without the token are refused. Screenshots go to test-results/screenshots/.
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
const consoleErrors: string[] = [];

const VIEWS = [
  ['datasets', /drop a folder|built-in/i],
  ['model', /dataset|architecture/i],
  ['noise', /noise|denoising/i],
  ['train', /train/i],
  ['gallery', /reconstruct|generated|samples/i],
  ['export', /export|tensorflow\.js|onnx|keras/i],
] as const;

beforeAll(async () => {
  serve = await startServe(['--workspace', fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-ws-'))]);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${new URL(r.url()).pathname}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('serve mode in Chromium', () => {
  it('refuses the page without the token', async () => {
    const res = await page.goto(serve.origin + '/');
    expect(res?.status()).toBe(401);
    expect(await page.textContent('body')).toMatch(/token/i);
    const wrong = await page.goto(`${serve.origin}/?token=not-the-token`);
    expect(wrong?.status()).toBe(401);
  });

  it('loads the studio frame with the token and shows the native backend', async () => {
    consoleErrors.length = 0; // the refused requests above are expected to log 401s
    const res = await page.goto(serve.url);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    const status = page.getByTestId('status-backend');
    await expect.poll(async () => (await status.textContent()) ?? '', { timeout: 60_000 }).toMatch(/tensorflow/i);
    const text = (await status.textContent()) ?? '';
    expect(text).toMatch(/2\.\d+\.\d+/); // the TensorFlow version
    expect(text).toMatch(/\d+ threads?/);
    await page.screenshot({ path: screenshotPath('frame-datasets'), fullPage: true });
  });

  it('navigates between the six views, each with an empty state that says what to do', async () => {
    for (const [name, hint] of VIEWS) {
      await page.getByTestId(`nav-${name}`).click();
      const view = page.getByTestId(`view-${name}`);
      await view.waitFor({ state: 'visible', timeout: 10_000 });
      expect((await view.textContent()) ?? '').toMatch(hint);
      expect(page.url()).toContain(`#/${name}`);
      await page.screenshot({ path: screenshotPath(`view-${name}`), fullPage: true });
    }
    // Back goes to the previous view (hash navigation).
    await page.goBack();
    await page.getByTestId('view-gallery').waitFor({ state: 'visible', timeout: 10_000 });
  });

  it('adds a built-in dataset with one click and shows its preview, label counts and mean image', async () => {
    await page.getByTestId('nav-datasets').click();
    await page.getByTestId('builtin-shapes').click();
    const card = page.locator('[data-testid^="dataset-shapes-"]');
    await card.waitFor({ timeout: 60_000 });
    expect(await card.textContent()).toMatch(/9,000 images · 28×28×1/);
    expect(await card.textContent()).toMatch(/triangle\s*3000/);
    await card.getByTestId('dataset-preview').waitFor({ timeout: 10_000 });
    expect(await card.locator('[data-testid="dataset-preview"] canvas').count()).toBe(16);
    await page.screenshot({ path: screenshotPath('datasets-shapes'), fullPage: true });
  });

  it('imports a dropped folder of PNGs (a DataTransfer dispatched in the page) and reports counts and skipped files', async () => {
    const sharp = (await import('sharp')).default;
    const files: Array<{ name: string; b64: string }> = [];
    for (let i = 0; i < 12; i++) {
      const png = await sharp({
        create: { width: 40, height: 40, channels: 3, background: { r: i * 20, g: 255 - i * 20, b: 128 } },
      })
        .png()
        .toBuffer();
      files.push({ name: `${i % 3 === 0 ? 'squares' : 'circles'}/${i}.png`, b64: png.toString('base64') });
    }
    files.push({ name: 'circles/broken.png', b64: Buffer.from('not a png').toString('base64') });
    await page.getByTestId('nav-datasets').click();
    await page.getByTestId('import-name').fill('Dropped');
    await page.evaluate(`(() => {
      const files = ${JSON.stringify(files)};
      const dt = new DataTransfer();
      for (const f of files) {
        const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], f.name, { type: 'image/png' }));
      }
      const zone = document.querySelector('[data-testid="drop-zone"]');
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    })()`);
    // the options come with a live preview of converted images before anything is imported
    await page.getByTestId('import-preview').waitFor({ timeout: 30_000 });
    // every readable picture, up to 24 taken label by label: the 12 good ones (the broken file is not among them)
    expect(await page.locator('[data-testid="import-preview"] canvas').count()).toBe(12);
    await page.getByTestId('import-size').selectOption('32');
    await expect
      .poll(async () => page.locator('[data-testid="import-preview"] canvas').first().getAttribute('width'), {
        timeout: 10_000,
      })
      .toBe('32');
    await page.getByTestId('import-size').selectOption('28');
    await page.getByTestId('import-start').click();
    const report = page.getByTestId('import-report');
    await report.waitFor({ timeout: 60_000 });
    const text = (await report.textContent()) ?? '';
    expect(text).toMatch(/Imported 12 images into “Dropped”/);
    expect(text).toMatch(/circles: 8/);
    expect(text).toMatch(/squares: 4/);
    expect(text).toMatch(/1 skipped/);
    expect(await page.getByTestId('import-skipped').textContent()).toMatch(/broken\.png — not an image/);
    await page.locator('[data-testid^="dataset-dropped-"]').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: screenshotPath('datasets-imported'), fullPage: true });
  });

  it('keeps working after a reload (the token lives on in the session)', async () => {
    await page.goto(`${serve.origin}/#/train`);
    await page.getByTestId('view-train').waitFor({ state: 'visible', timeout: 10_000 });
    await expect
      .poll(async () => (await page.getByTestId('status-backend').textContent()) ?? '', { timeout: 30_000 })
      .toMatch(/tensorflow/i);
  });

  it('trains a model in the built trainer (dist-main/trainer.cjs) through the serve-mode socket', async () => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`${serve.origin.replace('http', 'ws')}/ws?token=${serve.token}`, { origin: serve.origin });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const frames: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    ws.send(
      JSON.stringify({
        id: 1,
        call: 'runs:start',
        payload: {
          config: { kind: 'conv', inputShape: [28, 28, 1], latentDim: 16, epochs: 1, batchSize: 64 },
          dataset: { builtin: 'mnist', count: 1000 },
        },
      }),
    );
    await expect.poll(() => frames.find((f) => f.id === 1), { timeout: 30_000 }).toBeTruthy();
    const started = frames.find((f) => f.id === 1) as { ok: boolean; result: { runId: string } };
    expect(started.ok).toBe(true);
    const status = () =>
      frames.find((f) => f.event === 'runs:status' && (f.payload as { status: string }).status !== 'running');
    await expect.poll(status, { timeout: 90_000 }).toBeTruthy();
    expect(status()).toMatchObject({ payload: { runId: started.result.runId, status: 'completed', epochsDone: 1 } });
    expect(
      frames.some(
        (f) => f.event === 'runs:event' && (f.payload as { event: { type: string } }).event.type === 'preview',
      ),
    ).toBe(true);
    ws.close();
  });

  it('ran without console errors or CSP violations', () => {
    expect(consoleErrors).toEqual([]);
  });
});
