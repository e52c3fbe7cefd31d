// TensorFlow's C++ library writes INFO lines straight to the process's stderr when it loads
// ("oneDNN custom operations are on…"), before any setting such as TF_CPP_MIN_LOG_LEVEL is read, so
// they cannot be switched off from JavaScript. Commands that load tfjs-node in this process therefore
// run in a child whose stderr passes through a filter that drops those lines; `--verbose` keeps them
// (and turns TensorFlow's logging fully on, here and in the trainer process).
// The child also starts with the C allocator's settings for TensorFlow processes (engine/allocator.ts),
// which only a new process can take; with --verbose the command runs here, on the defaults.
import { spawn } from 'node:child_process';
import { glibcTunables } from '../engine/allocator';

/**
 * Commands that load tfjs-node in the CLI's own process (`import` decodes PNG and BMP files with
 * tfjs-node's decoders). `train` trains in the trainer process, whose stderr is never shown unless
 * --verbose; `builtin`, `datasets` and `runs` never load TensorFlow.
 */
const TF_COMMANDS = new Set(['export', 'latents', 'evaluate', 'job', 'import']);

/** One of TensorFlow's / absl's log lines at INFO or WARNING level, e.g. `I0000 00:00:1796… 5175 port.cc:153] …`. */
export function isTensorFlowNoise(line: string): boolean {
  return (
    /^[IW]\d{4} \d{2}:\d{2}:\d+\.\d+\s+\d+ [\w.\-/]+:\d+\] /.test(line) ||
    /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+: [IW] [\w.\-/]+:\d+\] /.test(line) ||
    line.startsWith('WARNING: All log messages before absl::InitializeLog() is called are written to STDERR') ||
    line.startsWith('To enable the following instructions: ')
  );
}

/** The environment of the child a TensorFlow command runs in: ours, marked as filtered, with the allocator's settings. */
export function filteredChildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, AE_CLI_FILTERED: '1', GLIBC_TUNABLES: glibcTunables(env.GLIBC_TUNABLES) };
}

/** Runs `main` here (with --verbose, or for commands that never load TensorFlow) or in a child whose stderr is filtered. */
export function quietTensorFlow(argv: string[], main: () => unknown): void {
  if (argv.includes('--verbose')) {
    process.env.TF_CPP_MIN_LOG_LEVEL = '0';
    main();
    return;
  }
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  if (process.env.AE_CLI_FILTERED === '1' || !argv.some((a) => TF_COMMANDS.has(a))) {
    main();
    return;
  }
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: filteredChildEnv(process.env),
  });
  let pending = '';
  const flush = (all: boolean) => {
    const lines = pending.split('\n');
    pending = all ? '' : (lines.pop() ?? '');
    for (const line of lines) if (line && !isTensorFlowNoise(line)) process.stderr.write(`${line}\n`);
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    pending += d;
    flush(false);
  });
  // Ctrl-C reaches the child through the terminal's process group; a signal sent to this process alone is passed on.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('close', (code, signal) => {
    flush(true);
    process.exit(code ?? (signal ? 128 + 2 : 1));
  });
}
