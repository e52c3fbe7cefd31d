// Smoke test of the PACKAGED desktop app with the real Electron binary (the release workflow runs
// it on Linux, macOS and Windows after building the installers; it cannot run on our machines,
// which have no Electron binary):
//
//   npx tsx test/package/smoke-electron.ts <path to the packaged executable>
//
// Launches the app with playwright-core's Electron support (`_electron.launch`) in a fresh
// profile, and checks (test/package/smoke-flow.ts): the window opens; the status bar reports the
// tensorflow backend; one epoch of built-in MNIST trains through the UI (Model view -> Train
// view); an ONNX export of the run is written into the workspace. Screenshots: test-results/smoke/.
//
// The package's fuses switch Node's --inspect arguments off, and `_electron.launch` needs the Node
// inspector; when the launch fails for that reason the app is started as built with Chromium's
// --remote-debugging-port and driven over CDP instead (same checks, same binary).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron, chromium, type Page } from 'playwright-core';
import { smokeFlow } from './smoke-flow';

const exe = process.argv[2];
if (!exe || !fs.existsSync(exe)) {
  console.error(
    `usage: tsx test/package/smoke-electron.ts <packaged executable>  (${exe ?? 'none given'} does not exist)`,
  );
  process.exit(2);
}
const log = (m: string) => console.log(`[smoke] ${m}`);
const shots = path.resolve('test-results', 'smoke');
fs.mkdirSync(shots, { recursive: true });

// A fresh profile: the app keeps its workspace in its user-data folder.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-smoke-home-'));
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  HOME: home,
  XDG_CONFIG_HOME: path.join(home, '.config'),
  APPDATA: path.join(home, 'AppData', 'Roaming'),
  USERPROFILE: home,
  TF_CPP_MIN_LOG_LEVEL: '2',
};
const args = process.platform === 'linux' ? ['--no-sandbox'] : [];

async function open(): Promise<{ page: Page; close: () => Promise<void> }> {
  try {
    const app = await _electron.launch({ executablePath: exe, args, env, timeout: 60_000 });
    log('launched with _electron.launch');
    return { page: await app.firstWindow({ timeout: 60_000 }), close: () => app.close() };
  } catch (e) {
    log(
      `_electron.launch failed (${(e as Error).message.split('\n')[0]}); the inspector fuse is off in the package — driving the same binary over CDP`,
    );
  }
  const port = 9300 + Math.floor(Math.random() * 500);
  const child: ChildProcess = spawn(exe, [...args, `--remote-debugging-port=${port}`], { env, stdio: 'inherit' });
  let browser;
  for (let i = 0; i < 120 && !browser; i++) {
    browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`).catch(() => undefined);
    if (!browser) await new Promise((r) => setTimeout(r, 500));
  }
  if (!browser) throw new Error(`the packaged app did not open a debugging port within 60 s (${exe})`);
  let page: Page | undefined;
  for (let i = 0; i < 120 && !page; i++) {
    page = browser
      .contexts()
      .flatMap((c) => c.pages())
      .find((p) => p.url().startsWith('app://'));
    if (!page) await new Promise((r) => setTimeout(r, 500));
  }
  if (!page) throw new Error('the packaged app opened no studio window within 60 s');
  return { page, close: async () => void (await browser.close().catch(() => undefined), child.kill()) };
}

async function main(): Promise<void> {
  const { page, close } = await open();
  try {
    await page.waitForLoadState('domcontentloaded');
    log(`window open: ${page.url()} "${await page.title()}"`);
    await smokeFlow(page, { log, screenshots: shots });
  } finally {
    await close();
    fs.rmSync(home, { recursive: true, force: true });
  }
  log('passed');
}

main().catch((e: Error) => {
  console.error(`[smoke] FAILED: ${e.message}`);
  process.exit(1);
});
