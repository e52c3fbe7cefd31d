// Starts the REAL `npm run serve` build (dist-main/serve.cjs) as a child process and returns
// the address it prints. Requires `npm run build` first (the test command does it).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './trainer';

export interface ServeProcess {
  url: string;
  origin: string;
  token: string;
  output: () => string;
  stop(): Promise<void>;
}

export async function startServe(args: string[] = []): Promise<ServeProcess> {
  const entry = path.join(repoRoot, 'dist-main', 'serve.cjs');
  if (!fs.existsSync(entry))
    throw new Error('dist-main/serve.cjs is missing: run `npm run build` before the e2e tests.');
  const child: ChildProcess = spawn(process.execPath, [entry, '--port', '0', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not print its address:\n${out}`)), 30_000);
    const check = () => {
      const m = /Open: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get('token') ?? '',
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}
