// `npm run bench` (UI part): how long switching views takes in the browser while a run trains.
// Starts the real `npm run serve` build, opens Debian's Chromium, starts a conv run on built-in
// MNIST (live chart and previews streaming), then switches views N times through the sidebar,
// timing each from the click to the first frame after the new view is in the page
// (performance.now in the page, then requestAnimationFrame). Prints one RESULT line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServe } from '../helpers/serve-process';
import { launchChromium } from '../helpers/browser';

const N = Number(process.env.BENCH_VIEW_SWITCHES ?? 40);
const VIEWS = ['datasets', 'model', 'noise', 'train', 'gallery', 'export'];
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-ui-'));
const serve = await startServe(['--workspace', workspace]);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(serve.url + '#/train');
  await page.getByText(/Backend: tensorflow/).waitFor({ timeout: 60_000 });
  // a run that outlasts the measurement: conv, 10,000 digits, 20 epochs
  await page.getByTestId('run-preset').selectOption('conv');
  await page.getByTestId('run-count').fill('10000');
  await page.getByTestId('run-epochs').fill('20');
  await page.getByTestId('train-start').click();
  // wait for the chart to stream (the page's CSP forbids waitForFunction's eval)
  const deadline = Date.now() + 60_000;
  while (
    Number(
      (await page
        .getByTestId('loss-chart')
        .getAttribute('data-points')
        .catch(() => '0')) ?? 0,
    ) <= 5
  ) {
    if (Date.now() > deadline) throw new Error('the run never streamed its loss');
    await page.waitForTimeout(200);
  }

  const switchTo = (name: string) =>
    page.evaluate(`(async () => {
      const t0 = performance.now();
      document.querySelector('[data-testid="nav-${name}"]').click();
      await new Promise((resolve) => {
        const check = () => (document.querySelector('[data-testid="view-${name}"]') ? resolve() : requestAnimationFrame(check));
        check();
      });
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      return performance.now() - t0;
    })()`) as Promise<number>;

  const times: number[] = [];
  let current = 'train';
  for (let i = 0; i < N; i++) {
    const next = VIEWS[(VIEWS.indexOf(current) + 1) % VIEWS.length];
    times.push(await switchTo(next));
    current = next;
    await page.waitForTimeout(150); // let the view load its data, as a person would look at it
  }
  const status = (await page.evaluate(`(async () => {
    document.querySelector('[data-testid="nav-train"]').click();
    await new Promise((r) => setTimeout(r, 100));
    return document.querySelector('[data-testid="run-status"]')?.textContent?.trim();
  })()`)) as string;
  if (status === 'running') await page.getByTestId('run-stop').click();

  const sorted = [...times].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const byView: Record<string, number[]> = {};
  times.forEach((t, i) => (byView[VIEWS[(VIEWS.indexOf('train') + 1 + i) % VIEWS.length]] ??= []).push(Math.round(t)));
  console.log(`per view (ms): ${JSON.stringify(byView)}`);
  console.log(
    `RESULT ${JSON.stringify({ bench: 'view-switch', switches: N, whileTraining: status === 'running', medianMs: r1(q(0.5)), p95Ms: r1(q(0.95)), maxMs: r1(sorted[sorted.length - 1]) })}`,
  );
} finally {
  await browser.close();
  await serve.stop();
  fs.rmSync(workspace, { recursive: true, force: true });
}
