// The CLI's entry (cli/main.ts `main`) as the installed `ae-studio` runs it, in this process
// (test/helpers/cli.ts): usage errors exit 2 with the usage, failures exit 1 with the reason in
// plain words, and nothing is written; `datasets` lists a real workspace's datasets. The commands
// that train, import, export and evaluate are tested in test/integration; cli/quiet.ts's filter of
// TensorFlow's log lines is checked on real lines.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTensorFlowNoise } from '../../../../src-main/cli/quiet';
import { cornersDataset } from '../host/helpers';
import { runCli as cli } from '../../../helpers/cli';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cli-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
describe('ae-studio', () => {
  it('exits 2 with the usage for a command or option it does not know, or one missing', async () => {
    const ws = tmp();
    const unknown = await cli('frobnicate', '--workspace', ws);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^ae-studio: Unknown command 'frobnicate'\./);
    expect(unknown.err).toMatch(/Usage|usage/);
    expect((await cli('datasets')).err).toMatch(/^ae-studio: --workspace DIR is required\./);
    const badRun = await cli(
      'export',
      '--workspace',
      ws,
      '--run',
      '../../etc',
      '--format',
      'onnx',
      '--out',
      path.join(ws, 'x.onnx'),
    );
    expect(badRun).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^ae-studio: '\.\.\/\.\.\/etc' is not a run id\./),
    });
    expect((await cli('export', '--workspace', ws, '--run', 'run-1', '--format', 'gif', '--out', 'x')).err).toMatch(
      /--format must be one of tfjs, keras, onnx \(got 'gif'\)/,
    );
    expect((await cli('import', '--workspace', ws, '--name', 'x', '--size', '3', ws)).err).toMatch(
      /--size must be a whole number from 4 to 512\./,
    );
    expect((await cli('datasets', '--workspace', ws, '--colour')).code).toBe(2);
    expect(fs.readdirSync(ws)).toEqual([]); // nothing written
  });

  it('exits 1 with the reason when a run is not there or has no model, writing nothing', async () => {
    const ws = tmp();
    const out = path.join(ws, 'x.onnx');
    const missing = await cli('export', '--workspace', ws, '--run', 'run-1', '--format', 'onnx', '--out', out);
    expect(missing).toMatchObject({ code: 1, err: `ae-studio: There is no run 'run-1' in ${ws}.` });
    fs.mkdirSync(path.join(ws, 'runs', 'run-1'), { recursive: true });
    const untrained = await cli('export', '--workspace', ws, '--run', 'run-1', '--format', 'onnx', '--out', out);
    expect(untrained.code).toBe(1);
    expect(untrained.err).toMatch(
      /^ae-studio: Run 'run-1' has no trained model yet \(.+ is missing\): let it finish training first\.$/,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it("lists a workspace's datasets, as text and as JSON", async () => {
    const ws = tmp();
    expect(await cli('datasets', '--workspace', ws)).toMatchObject({ code: 0, out: `No datasets in ${ws}.` });
    const id = await cornersDataset(ws);
    expect((await cli('datasets', '--workspace', ws)).out).toBe(`${id}  Corners  100 images  12×12×1`);
    expect(JSON.parse((await cli('datasets', '--workspace', ws, '--json')).out)).toMatchObject([
      { id, name: 'Corners', count: 100 },
    ]);
  });
});

describe("the filter of TensorFlow's log lines", () => {
  it("drops TensorFlow's INFO and WARNING lines and keeps everything else", () => {
    for (const line of [
      'I0000 00:00:1796568779.381223   14923 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results.',
      'W0000 00:00:1796568779.381223   14923 cpu_feature_guard.cc:210] This TensorFlow binary is optimized to use available CPU instructions.',
      '2026-12-06 14:52:38.123456: I tensorflow/core/platform/cpu_feature_guard.cc:182] This TensorFlow binary is optimized',
      'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR',
      'To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.',
    ])
      expect(isTensorFlowNoise(line), line).toBe(true);
    for (const line of [
      'E0000 00:00:1796568779.381223   14923 some.cc:1] an error TensorFlow reports',
      "ae-studio: There is no run 'run-1' in /ws.",
      'Imported 404 images into icons-abc123.',
      'WARNING: the dataset has one label',
      '',
    ])
      expect(isTensorFlowNoise(line), line).toBe(false);
  });
});
