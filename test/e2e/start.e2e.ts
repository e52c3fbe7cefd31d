// `npm start` where Electron cannot open a window (here: no Electron binary, and no display is
// given to the process): the start script says why in one line, starts the same studio in serve
// mode and prints its address; Chromium opens that address and the studio works (native backend).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/trainer';
import { launchChromium, screenshotPath } from '../helpers/browser';

let child: ChildProcess | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGINT');
    await exited;
  }
});

describe('npm start without a window', () => {
  it('falls back to serve mode, prints the address, and that address is the studio', async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-start-ws-'));
    // no DISPLAY: the fallback must not try to open a browser; BROWSER=none makes sure of it
    const { DISPLAY: _d, WAYLAND_DISPLAY: _w, ...env } = process.env;
    child = spawn(
      process.execPath,
      [path.join(repoRoot, 'scripts', 'start-electron.mjs'), '--port', '0', '--workspace', ws],
      {
        cwd: repoRoot,
        env: { ...env, BROWSER: 'none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed:\n${out}`)), 60_000);
      child?.stdout?.on('data', () => {
        const m = /Open: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child?.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
    });
    const firstLine = out.split('\n')[0];
    expect(firstLine).toMatch(
      /^Autoencoder Studio cannot open a desktop window: .+; starting it in your browser instead \(serve mode\)\.$/,
    );
    expect(out).toContain(`Workspace: ${ws}`);

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const res = await page.goto(url);
      expect(res?.status()).toBe(200);
      const status = page.getByTestId('status-backend');
      await expect.poll(async () => (await status.textContent()) ?? '', { timeout: 60_000 }).toMatch(/tensorflow/i);
      await page.screenshot({ path: screenshotPath('npm-start-fallback') });
    } finally {
      await browser.close();
    }
    // Ctrl-C (SIGINT) ends the studio cleanly
    const code = await new Promise<number | null>((resolve) => {
      child?.once('exit', (c) => resolve(c));
      child?.kill('SIGINT');
    });
    expect(code).toBe(0);
  });
});
