// The layer boundaries of docs/ARCHITECTURE.md are enforced by `npm run lint` (eslint.config.js):
// an import across a boundary fails with a message naming the rule; allowed imports pass.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/trainer';

const eslint = new ESLint({ cwd: repoRoot });

async function problems(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer boundaries', () => {
  it.each([
    [
      'src-main/engine/x.ts',
      "import { createHost } from '../host';\nexport const h = createHost;",
      /engine imports only the contract/,
    ],
    [
      'src-main/engine/run/x.ts',
      "import { listDatasets } from '../../datasets/store';\nexport const l = listDatasets;",
      /engine imports only the contract/,
    ],
    [
      'src-main/engine/x.ts',
      "import { exportModel } from '../formats';\nexport const e = exportModel;",
      /engine does not import the model formats/,
    ],
    [
      'src-main/fs-safety/x.ts',
      "import { tf } from '../engine/tf';\nexport const t = tf;",
      /file-system safety imports nothing of the studio/,
    ],
    ['src-main/contract/x.ts', "import fs from 'node:fs';\nexport const f = fs;", /no Node or native imports/],
    [
      'src-main/host/x.ts',
      "import { startServeServer } from '../serve/server';\nexport const s = startServeServer;",
      /host knows no transport/,
    ],
    [
      'src-main/host/y.ts',
      "import { app } from 'electron';\nexport const a = app;",
      /Only src-main\/electron imports 'electron'/,
    ],
    [
      'src-main/trainer/x.ts',
      "import { createHost } from '../host';\nexport const h = createHost;",
      /does not import the host/,
    ],
    [
      'src-renderer/stores/x.ts',
      "import { trainRun } from '../../src-main/engine';\nexport const t = trainRun;",
      /renderer imports only @contract/,
    ],
  ])('%s: a forbidden import fails', async (file, code, message) => {
    const found = await problems(file, code);
    expect(found.length, JSON.stringify(found)).toBe(1);
    expect(found[0]).toMatch(message);
  });

  it.each([
    ['src-main/engine/x.ts', "import { ModelConfig } from '../contract/model-config';\nexport const m = ModelConfig;"],
    [
      'src-main/host/x.ts',
      "import { TrainerSupervisor } from '../trainer/supervisor';\nexport const t = TrainerSupervisor;",
    ],
    [
      'src-main/electron/x.ts',
      "import { app } from 'electron';\nimport { CSP } from '../host/csp';\nexport const a = [app, CSP];",
    ],
    ['src-renderer/stores/x.ts', "import { calls } from '@contract';\nexport const c = calls;"],
  ])('%s: an allowed import passes', async (file, code) => {
    expect(await problems(file, code)).toEqual([]);
  });
});
