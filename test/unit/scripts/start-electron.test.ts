// `npm start`'s decisions (scripts/start-electron.mjs): why Electron cannot open a window here, and
// which command opens the serve-mode address in the default browser. The fallback itself runs in
// test/e2e/start.e2e.ts.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/trainer';

type Start = {
  whyNoWindow(env: Record<string, string | undefined>, platform: string): { reason?: string; binary?: string };
  browserCommand(
    url: string,
    env: Record<string, string | undefined>,
    platform: string,
  ): [string, string[]] | undefined;
};
const load = async () => (await import(path.join(repoRoot, 'scripts', 'start-electron.mjs'))) as Start;
const url = 'http://127.0.0.1:5000/?token=abc';

/** Electron's binary on this machine, or undefined where it was never downloaded. */
function electronBinary(): string | undefined {
  try {
    const p = createRequire(path.join(repoRoot, 'package.json'))('electron') as unknown;
    return typeof p === 'string' && fs.existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

describe('npm start: window or serve mode', () => {
  it('says why no window opens: no Electron binary, or (on Linux) no display', async () => {
    const { whyNoWindow } = await load();
    const binary = electronBinary();
    const withDisplay = whyNoWindow({ DISPLAY: ':0' }, 'linux');
    const headless = whyNoWindow({}, 'linux');
    if (!binary) {
      expect(withDisplay.reason).toMatch(/^Electron's binary is not installed/);
      expect(headless.reason).toMatch(/^Electron's binary is not installed/);
    } else {
      expect(withDisplay).toEqual({ binary, reason: undefined });
      expect(whyNoWindow({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux').reason).toBeUndefined();
      expect(headless.reason).toBe('there is no display (DISPLAY and WAYLAND_DISPLAY are not set)');
      expect(whyNoWindow({}, 'darwin').reason, 'macOS and Windows always have a display').toBeUndefined();
    }
  });

  it('opens the address with the platform opener, never on a headless Linux box or with BROWSER=none', async () => {
    const { browserCommand } = await load();
    expect(browserCommand(url, { BROWSER: 'none', DISPLAY: ':0' }, 'linux')).toBeUndefined();
    expect(browserCommand(url, { BROWSER: 'none' }, 'darwin')).toBeUndefined();
    expect(browserCommand(url, {}, 'darwin')).toEqual(['open', [url]]);
    expect(browserCommand(url, {}, 'win32')).toEqual(['cmd', ['/c', 'start', '""', url]]);
    expect(browserCommand(url, {}, 'linux')).toBeUndefined();
    // BROWSER names a command that exists here (sh), or one that does not (then xdg-open, if any)
    expect(browserCommand(url, { DISPLAY: ':0', BROWSER: 'sh' }, 'linux')).toEqual(['sh', [url]]);
    const fallback = browserCommand(url, { DISPLAY: ':0', BROWSER: 'no-such-browser-here' }, 'linux');
    expect(fallback === undefined || fallback[0] === 'xdg-open').toBe(true);
  });
});
