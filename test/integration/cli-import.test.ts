// `ae-studio import --background`: what transparent pixels become, as the Datasets view offers it;
// the built CLI importing PNGs (decoded by tfjs-node in its own process) keeps TensorFlow's log
// lines off stderr unless --verbose.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/main';
import { runCli } from '../helpers/cli';
import { isTensorFlowNoise } from '../../src-main/cli/quiet';
import { loadDataset, writeDataset } from '../../src-main/datasets/store';
import { makeBuiltin } from '../../src-main/datasets/builtins';
import { trainRun } from '../../src-main/engine';
import { repoRoot } from '../helpers/trainer';

describe('ae-studio import --background', () => {
  it('turns transparent pixels white or black as asked, and refuses anything else', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cli-bg-'));
    await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toFile(path.join(dir, 'clear.png'));
    const ws = path.join(dir, 'ws');
    const run = (...args: string[]) =>
      runCli('import', path.join(dir, 'clear.png'), '--workspace', ws, '--size', '8', '--json', ...args);
    for (const [bg, value] of [
      ['white', 255],
      ['black', 0],
    ] as const) {
      const r = await run('--name', bg, '--background', bg);
      expect(r.code, r.err).toBe(0);
      const d = loadDataset(ws, (JSON.parse(r.out) as { dataset: string }).dataset);
      expect([...new Set(d.images)]).toEqual([value]);
    }
    const bad = await run('--name', 'x', '--background', 'pink');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--background .* must be black or white/);
  });
});

describe('ae-studio job export and evaluate take the common options', () => {
  it('--help prints the usage; a config without inputShape (as for train) and --verbose are accepted', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cli-job-'));
    const out: string[] = [];
    const err: string[] = [];
    const cli = (...argv: string[]) =>
      main(
        argv,
        (s) => out.push(s),
        (s) => err.push(s),
      );
    expect(await cli('job', '--help')).toBe(0);
    expect(out.join('\n')).toMatch(/ae-studio job export --workspace DIR/);
    expect(await cli('evaluate', '--help')).toBe(0);
    fs.writeFileSync(
      path.join(dir, 'run.json'),
      JSON.stringify({
        config: { kind: 'dense', latentDim: 8, epochs: 1 },
        dataset: { builtin: 'mnist', count: 1000 },
      }),
    );
    const code = await cli(
      'job',
      'export',
      '--workspace',
      path.join(dir, 'ws'),
      '--config',
      path.join(dir, 'run.json'),
      '--dataset',
      'mnist',
      '--out',
      path.join(dir, 'job'),
      '--verbose',
      '--json',
    );
    expect(code, err.join('\n')).toBe(0);
    const job = JSON.parse(fs.readFileSync(path.join(dir, 'job', 'job.json'), 'utf8')) as {
      config: { inputShape: number[] };
    };
    expect(job.config.inputShape).toEqual([28, 28, 1]);
  });
});

describe('ae-studio import (the built CLI) and TensorFlow log lines', () => {
  it("keeps TensorFlow's INFO lines off stderr, and shows them with --verbose", async () => {
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-main.mjs')], {
      cwd: repoRoot,
      stdio: 'ignore',
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cli-quiet-'));
    try {
      for (const label of ['a', 'b']) {
        fs.mkdirSync(path.join(dir, 'pics', label), { recursive: true });
        await sharp({
          create: { width: 16, height: 16, channels: 3, background: { r: label === 'a' ? 200 : 20, g: 90, b: 40 } },
        })
          .png()
          .toFile(path.join(dir, 'pics', label, `${label}.png`));
      }
      // a user's shell: no TF_CPP_MIN_LOG_LEVEL (the test runner sets one)
      const { TF_CPP_MIN_LOG_LEVEL: _quiet, ...env } = process.env;
      const cli = (...args: string[]) =>
        spawnSync(
          process.execPath,
          [
            path.join(repoRoot, 'dist-main', 'cli.cjs'),
            'import',
            path.join(dir, 'pics'),
            '--workspace',
            path.join(dir, 'ws'),
            '--size',
            '8',
            '--json',
            ...args,
          ],
          {
            encoding: 'utf8',
            env,
          },
        );
      const quiet = cli('--name', 'quiet');
      expect(quiet.status, quiet.stderr).toBe(0);
      expect((JSON.parse(quiet.stdout) as { imported: number }).imported).toBe(2);
      expect(quiet.stderr.split('\n').filter(isTensorFlowNoise)).toEqual([]);
      const verbose = cli('--name', 'verbose', '--verbose');
      expect(verbose.status, verbose.stderr).toBe(0);
      expect(
        verbose.stderr.split('\n').filter(isTensorFlowNoise).length,
        'with --verbose TensorFlow speaks',
      ).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a stored dataset by its name, as ae-studio train takes it', () => {
  it('evaluate, latents and job export --config find it by name (any case), an unknown name lists the datasets there are', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cli-byname-'));
    const ws = path.join(dir, 'ws');
    const shapes = makeBuiltin('shapes', { perClass: 40 });
    const m = await writeDataset(ws, 'Little Shapes', shapes, { kind: 'builtin', builtin: 'shapes' });
    const runId = 'run-by-name';
    const r = await trainRun({
      config: { kind: 'dense', inputShape: m.shape, latentDim: 4, epochs: 1, batchSize: 20, seed: 1 },
      dataset: { ...shapes, count: m.count },
      runDir: path.join(ws, 'runs', runId),
    });
    expect(r.status, r.message).toBe('completed');
    const cli = runCli;

    const ev = await cli(
      'evaluate',
      '--workspace',
      ws,
      '--run',
      runId,
      '--dataset',
      'little shapes',
      '--anomalous',
      'triangle',
      '--json',
    );
    expect(ev.code, ev.err).toBe(0);
    const e = JSON.parse(ev.out) as {
      labelNames: string[];
      counts: { total: number };
      anomaly: { anomalous: number[] };
    };
    expect(e.labelNames).toEqual(['circle', 'square', 'triangle']);
    expect(e.counts.total).toBe(120);
    expect(e.anomaly.anomalous).toEqual([2]);

    const lat = await cli(
      'latents',
      '--workspace',
      ws,
      '--run',
      runId,
      '--dataset',
      'Little Shapes',
      '--out',
      path.join(dir, 'codes.csv'),
      '--json',
    );
    expect(lat.code, lat.err).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'codes.csv'), 'utf8').trim().split('\n')).toHaveLength(121);

    fs.writeFileSync(
      path.join(dir, 'cfg.json'),
      JSON.stringify({ kind: 'dense', latentDim: 4, epochs: 1, batchSize: 20 }),
    );
    const job = await cli(
      'job',
      'export',
      '--workspace',
      ws,
      '--config',
      path.join(dir, 'cfg.json'),
      '--dataset',
      'LITTLE SHAPES',
      '--out',
      path.join(dir, 'job'),
      '--json',
    );
    expect(job.code, job.err).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'job', 'job.json'), 'utf8')).source.dataset).toEqual({ id: m.id });

    for (const argv of [
      ['evaluate', '--workspace', ws, '--run', runId, '--dataset', 'Big Shapes'],
      ['latents', '--workspace', ws, '--run', runId, '--dataset', 'Big Shapes', '--out', path.join(dir, 'x.csv')],
      [
        'job',
        'export',
        '--workspace',
        ws,
        '--config',
        path.join(dir, 'cfg.json'),
        '--dataset',
        'Big Shapes',
        '--out',
        path.join(dir, 'x'),
      ],
    ]) {
      const bad = await cli(...argv);
      expect(bad.code, argv[0]).toBe(1);
      expect(bad.err).toContain(`There is no dataset 'Big Shapes'`);
      expect(bad.err).toContain(`${m.id} (Little Shapes)`);
    }
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'x.csv'))).toBe(false);
  }, 120_000);
});
