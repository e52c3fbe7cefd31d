// Debian's Chromium driven by playwright-core (Playwright's own browser download does not work
// on offline machines). `npm install` provisions it: scripts/provision-chromium.mjs.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from './trainer';

export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist.`);
    return fromEnv;
  }
  try {
    return execSync('command -v chromium || command -v chromium-browser', { shell: '/bin/sh' })
      .toString()
      .trim()
      .split('\n')[0];
  } catch {
    throw new Error(
      "Chromium is not installed. `npm install` installs Debian's chromium where it may (root or password-less sudo); run `npm run provision:chromium` to try again and see why not, or set CHROMIUM_PATH.",
    );
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export const screenshotDir = path.join(repoRoot, 'test-results', 'screenshots');
export function screenshotPath(name: string): string {
  fs.mkdirSync(screenshotDir, { recursive: true });
  return path.join(screenshotDir, `${name}.png`);
}
