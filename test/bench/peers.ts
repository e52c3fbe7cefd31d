// The peers of the training benches, all in this repository: the Keras and PyTorch versions of the
// reference models A–E (test/bench/peers/keras_bench.py, torch_bench.py) and the matmul peak
// (peak_flops.py). Their Python comes from the local pip index through the test helpers' venvs
// (test/helpers/pyenv.ts: the export tests' Keras + TensorFlow one, the cluster tests' PyTorch
// one; created on first use, minutes, then reused), and their data is the studio's own digits,
// written once to a cache file so that every framework trains on the same numbers.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadMnist } from '../../src-main/engine';
import { ensurePyEnv, PY_REQUIREMENTS, TORCH_REQUIREMENTS } from '../helpers/pyenv';

/** Where the peer scripts are. */
export const peersDir = path.join(import.meta.dirname, 'peers');

/** The digits every framework trains on: `loadMnist(10000, { seed: 12345 })` (as test/bench/train.ts) as float32 rows in [0, 1]. */
export const DATA_SEED = 12345;

/** The data file for the peers (float32 little-endian, 784 values a row), written once under ~/.cache/ae-studio/peers. */
export function peerData(): string {
  const dir = path.join(process.env.AE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'ae-studio'), 'peers');
  const file = path.join(dir, `mnist10k-seed${DATA_SEED}.f32`);
  const ds = loadMnist(10_000, { seed: DATA_SEED, format: 'float' });
  const bytes = Buffer.from(ds.images.buffer, ds.images.byteOffset, ds.images.byteLength);
  if (fs.existsSync(file) && fs.readFileSync(file).equals(bytes)) return file;
  if (os.endianness() !== 'LE')
    throw new Error('The peer data file is little-endian float32; this machine is big-endian.');
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
  return file;
}

/** The two interpreters: Keras 3 + TensorFlow, and PyTorch. */
export function peerPythons(): { keras: string; torch: string } {
  return { keras: ensurePyEnv(PY_REQUIREMENTS).python, torch: ensurePyEnv(TORCH_REQUIREMENTS).python };
}

/** Runs a peer script and returns its `RESULT {json}` line's object; throws with its stderr when it fails. */
export function runPeer(python: string, script: string, args: string[]): Record<string, unknown> {
  let out: string;
  try {
    out = execFileSync(python, [path.join(peersDir, script), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 2 ** 20,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', KERAS_BACKEND: 'tensorflow', CUDA_VISIBLE_DEVICES: '' },
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `${script} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-15).join('\n')}`,
    );
  }
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${script} ${args.join(' ')} printed no RESULT line:\n${out}`);
  return JSON.parse(line.slice(7)) as Record<string, unknown>;
}

/**
 * The machine's float32 matmul peak (GFLOP/s): PEAK_GFLOPS, or the best of a 4096² matmul in
 * PyTorch on 1 thread and on all cores (peers/peak_flops.py); undefined with BENCH_PEAK=0.
 */
export function matmulPeak(torchPython?: string): { gflops: number; source: string } | undefined {
  if (process.env.BENCH_PEAK === '0') return undefined;
  if (process.env.PEAK_GFLOPS) return { gflops: Number(process.env.PEAK_GFLOPS), source: 'PEAK_GFLOPS' };
  const py = torchPython ?? ensurePyEnv(TORCH_REQUIREMENTS).python;
  const out = execFileSync(py, [path.join(peersDir, 'peak_flops.py'), '--repeats', '3'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const peaks = out
    .split('\n')
    .filter((l) => l.startsWith('RESULT '))
    .map((l) => JSON.parse(l.slice(7)) as { lib: string; threads: number; gflops: number });
  if (!peaks.length) return undefined;
  return {
    gflops: Math.max(...peaks.map((p) => p.gflops)),
    source: `peak_flops.py, 4096² float32 matmul (${peaks.map((p) => `${p.lib} ×${p.threads} threads: ${p.gflops}`).join(', ')})`,
  };
}
