// A Python virtual environment with the runtimes the export tests check against (Keras 3 on the
// TensorFlow backend, onnxruntime, onnx, numpy, h5py), installed from the machine's LOCAL pip index.
// Created once under ~/.cache/ae-studio/pyenv-<hash of the requirements and the Python version>
// and reused; built in a temporary folder beside it and renamed into place, so a half-made venv
// is never used. A venv's interpreter finds its site-packages through pyvenv.cfg next to it, so
// `<venv>/bin/python` keeps working after the rename (its console scripts would not; we never use
// them).
//
// Missing python3, venv support or local index → a plain error saying what is missing (CI runs
// these tests; they never skip silently).
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PY_REQUIREMENTS = ['keras==3.15.1', 'tensorflow-cpu==2.21.0', 'onnxruntime', 'onnx', 'numpy', 'h5py'];

const FALLBACK_INDEXES = ['file:///opt/pypi/simple', 'file:///opt/pypi-more/simple'];

export interface PyEnv {
  /** The venv's interpreter. */
  python: string;
  dir: string;
  /** Seconds it took to create (0 when it was already there). */
  createdInSec: number;
}

function cacheRoot(): string {
  return process.env.AE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'ae-studio');
}

/** The local package indexes: from `pip config list` (index-url, extra-index-url), else the machine's defaults. */
export function localIndexes(python = 'python3'): string[] {
  const urls: string[] = [];
  const r = spawnSync(python, ['-m', 'pip', 'config', 'list'], { encoding: 'utf8' });
  if (r.status === 0) {
    for (const line of r.stdout.split('\n')) {
      const m = /^[^=]*\.(index-url|extra-index-url)='?(.*?)'?$/.exec(line.trim());
      if (m) for (const u of m[2].split(/\s+/).filter(Boolean)) if (!urls.includes(u)) urls.push(u);
    }
  }
  for (const env of [process.env.PIP_INDEX_URL, process.env.PIP_EXTRA_INDEX_URL]) {
    for (const u of (env ?? '').split(/\s+/).filter(Boolean)) if (!urls.includes(u)) urls.push(u);
  }
  const local = urls.filter((u) => u.startsWith('file://') || /^https?:\/\/(localhost|127\.)/.test(u));
  return local.length ? local : FALLBACK_INDEXES;
}

function fail(msg: string): never {
  throw new Error(`Python runtimes for the export tests: ${msg}`);
}

/** The venv, created if needed (minutes the first time). */
export function ensurePyEnv(requirements = PY_REQUIREMENTS): PyEnv {
  const which = spawnSync('python3', ['-c', 'import sys, venv; print(sys.version.split()[0])'], { encoding: 'utf8' });
  if (which.error || which.status !== 0) {
    fail(
      `python3 with the venv module is needed (install python3 and python3-venv): ${which.error?.message ?? which.stderr.trim()}`,
    );
  }
  const pyVersion = which.stdout.trim();
  const hash = crypto
    .createHash('sha256')
    .update(JSON.stringify({ requirements, pyVersion }))
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(cacheRoot(), `pyenv-${hash}`);
  const python = path.join(dir, 'bin', 'python');
  if (fs.existsSync(path.join(dir, '.complete')) && fs.existsSync(python)) return { python, dir, createdInSec: 0 };

  const indexes = localIndexes();
  const missing = indexes.filter((u) => u.startsWith('file://') && !fs.existsSync(fileURLToPath(u)));
  if (missing.length === indexes.length) {
    fail(
      `no local pip index found (looked for ${indexes.join(', ')}); set PIP_INDEX_URL to a local index holding ${requirements.join(' ')}.`,
    );
  }
  const usable = indexes.filter((u) => !missing.includes(u));
  const started = Date.now();
  fs.mkdirSync(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    execFileSync('python3', ['-m', 'venv', tmp], { stdio: 'pipe' });
    const env = {
      ...process.env,
      PIP_INDEX_URL: usable[0],
      PIP_EXTRA_INDEX_URL: usable.slice(1).join(' '),
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
      PIP_NO_INPUT: '1',
    };
    const r = spawnSync(path.join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '--no-cache-dir', ...requirements], {
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    });
    if (r.status !== 0) {
      fail(
        `pip install ${requirements.join(' ')} from ${usable.join(', ')} failed:\n${(r.stderr || r.stdout).split('\n').slice(-25).join('\n')}`,
      );
    }
    fs.writeFileSync(
      path.join(tmp, '.complete'),
      JSON.stringify({ requirements, pyVersion, indexes: usable, createdAt: new Date().toISOString() }),
    );
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // Another process finished first: use theirs.
      if (!fs.existsSync(path.join(dir, '.complete'))) throw err;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return { python, dir, createdInSec: (Date.now() - started) / 1000 };
}

/** Runs a script with the venv's Python; throws with its stderr when it fails. */
export function runPython(env: PyEnv, script: string, args: string[], timeoutMs = 300_000): string {
  const r = spawnSync(env.python, [script, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', KERAS_BACKEND: 'tensorflow', CUDA_VISIBLE_DEVICES: '' },
  });
  if (r.status !== 0)
    throw new Error(
      `python ${path.basename(script)} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`,
    );
  return r.stdout;
}

/**
 * PyTorch (CPU) for the cluster-job tests. torch 2.13.0's CPU wheel is on the local
 * index (find-links); pinning it keeps pip away from the CUDA build of a later torch.
 */
export const TORCH_REQUIREMENTS = ['torch==2.13.0', 'numpy', 'safetensors'];

/** numpy and scipy for the generation metrics' independent check (scipy.linalg.sqrtm). */
export const SCIPY_REQUIREMENTS = ['numpy', 'scipy'];
