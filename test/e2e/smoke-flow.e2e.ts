// The release workflow's smoke test walk (test/package/smoke-flow.ts), run here in serve mode with
// Chromium: the packaged desktop app cannot be launched on our machines (no Electron binary), so
// this keeps the walk's steps and selectors checked against the real UI on every `npm test`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startServe, type ServeProcess } from '../helpers/serve-process';
import { launchChromium } from '../helpers/browser';
import { smokeFlow } from '../package/smoke-flow';

let serve: ServeProcess;
let browser: Browser;
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-e2e-smoke-'));

beforeAll(async () => {
  serve = await startServe(['--workspace', ws]);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  fs.rmSync(ws, { recursive: true, force: true });
});

describe('the release smoke walk, in serve mode', () => {
  it('reports the tensorflow backend, trains one epoch of MNIST through the UI and writes an ONNX export', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(serve.url);
    const r = await smokeFlow(page);
    expect(r.onnx.startsWith(path.join(ws, 'exports'))).toBe(true);
    expect(fs.readFileSync(r.onnx).length).toBe(r.bytes);
    expect(errors).toEqual([]);
  });
});
