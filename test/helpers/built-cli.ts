// The built CLI (`dist-main/cli.cjs`) as a separate process, as a user's terminal runs it: build it,
// run it in a folder, read its --json lines.
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './trainer';

export const builtCliPath = path.join(repoRoot, 'dist-main', 'cli.cjs');

/** Builds dist-main (the CLI, the trainer) with the project's build script. */
export function buildMain(): void {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-main.mjs')], {
    cwd: repoRoot,
    stdio: 'ignore',
  });
}

/** Runs the built CLI in `cwd`; its exit code and what it printed. */
export function runBuiltCli(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [builtCliPath, ...args], { cwd, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Every JSON line (object or array) a `--json` command printed. */
export const jsonLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{') || l.startsWith('['))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The last JSON object line a command printed. */
export const lastJson = (s: string) =>
  JSON.parse(
    s
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .at(-1)!,
  ) as Record<string, unknown>;
