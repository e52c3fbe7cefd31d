// The smoke test's walk through the studio (test/package/smoke-electron.ts runs it in the packaged
// desktop app; test/e2e/smoke-flow.e2e.ts runs the same walk in serve mode, so its steps are
// checked on every `npm test`): the status bar reports the tensorflow backend, one epoch of built-in
// MNIST trains through the UI (Model view -> Train view), an ONNX export of the run is written into
// the workspace. Throws in plain words at the first step that fails.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

export async function smokeFlow(
  page: Page,
  opts: { log?: (m: string) => void; screenshots?: string } = {},
): Promise<{ onnx: string; bytes: number; trainSeconds: number }> {
  const log = opts.log ?? (() => undefined);
  const shot = async (name: string) => {
    if (!opts.screenshots) return;
    fs.mkdirSync(opts.screenshots, { recursive: true });
    await page.screenshot({ path: path.join(opts.screenshots, `${name}.png`) });
  };
  await page
    .getByText(/Backend: tensorflow/)
    .first()
    .waitFor({ timeout: 120_000 });
  log(
    `status bar: ${(
      await page
        .getByText(/Backend: tensorflow/)
        .first()
        .textContent()
    )?.trim()}`,
  );
  await shot('1-window');

  await page.getByTestId('nav-model').click();
  await page.getByTestId('preset-dense').click();
  await page.getByTestId('field-epochs').fill('1');
  await page.getByTestId('run-count').fill('2000');
  await page.getByTestId('nav-train').click();
  await page.getByTestId('train-start').click();
  await page.getByTestId('run-panel').waitFor({ timeout: 30_000 });
  const t = Date.now();
  for (;;) {
    const s = (await page.getByTestId('run-status').textContent())?.trim();
    if (s === 'completed') break;
    if (s === 'failed' || Date.now() - t > 300_000) throw new Error(`the run did not complete: ${s}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const trainSeconds = (Date.now() - t) / 1000;
  log(`one epoch of built-in MNIST trained through the UI in ${trainSeconds.toFixed(1)} s`);
  await shot('2-trained');

  await page.getByTestId('nav-export').click();
  const runId = await page
    .getByTestId('export-run')
    .locator('option[value]:not([value=""])')
    .first()
    .getAttribute('value');
  if (!runId) throw new Error('the Export view lists no trained run');
  await page.getByTestId('export-run').selectOption(runId);
  await page.getByTestId('export-format-onnx').check();
  await page.getByTestId('export-model').click();
  await page
    .getByTestId('export-done')
    .getByText(/\.onnx/)
    .waitFor({ timeout: 120_000 });
  const ws = (await page.getByTestId('workspace-path').textContent())?.trim() ?? '';
  const dir = path.join(ws, 'exports');
  // exports/<exportId>/<run>-autoencoder.onnx
  const onnx = fs.existsSync(dir)
    ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.onnx'))
    : [];
  if (!onnx.length) throw new Error(`no ONNX file was written in ${dir}`);
  const file = path.join(dir, onnx[0]);
  const bytes = fs.statSync(file).size;
  if (bytes < 10_000) throw new Error(`${file} is only ${bytes} bytes`);
  log(`ONNX export written: ${file} (${bytes} bytes)`);
  await shot('3-exported');
  return { onnx: file, bytes, trainSeconds };
}
