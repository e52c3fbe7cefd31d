// Every host call (CALL_NAMES) fuzzed with generated invalid payloads against a REAL host with the
// REAL trainer over a temp workspace: wrong types, NaN / ±Infinity / -0 / 1e308, 2 MB strings,
// 100,000-element arrays, unknown and prototype-pollution keys (`__proto__`, `constructor`),
// `../` names, NUL bytes. Always a typed envelope (invalid payloads: `invalid_payload`), never a
// throw, the host and trainer still answer, nothing written outside the workspace.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { CALL_NAMES, ERROR_CODES, calls, type Envelope } from '../../src-main/contract';
import { createHarness, type Harness } from './harness';
import { tally } from './record';
import { repoRoot } from '../helpers/trainer';

const MARK = `aefuzz${crypto.randomBytes(4).toString('hex')}`;
const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-rel-fuzz-'));
const workspace = path.join(parent, 'ws');
const outside = path.join(parent, 'outside');
const images = path.join(outside, 'images');
let h: Harness;
afterAll(async () => h?.dispose());

/** Valid payloads, one per call (runs and exports that do not exist are fine: the point is each field). */
function baselines(): Record<string, unknown> {
  const runId = 'run-20260101-000000-abcd';
  return {
    'trainer:ping': { nonce: 'n' },
    'runs:start': {
      config: {
        kind: 'dense',
        inputShape: [28, 28, 1],
        latentDim: 4,
        hidden: [8],
        epochs: 1,
        batchSize: 50,
        learningRate: 0.001,
        momentum: 0.9,
        noise: { type: 'gaussian', level: 0.1 },
      },
      dataset: { builtin: 'mnist', count: 100 },
    },
    'runs:stop': { runId },
    'runs:resume': { runId },
    'runs:update': { runId, name: 'A name', note: 'a note' },
    'runs:preview': { runId },
    'runs:batchLoss': { runId },
    'datasets:addBuiltin': { name: 'shapes' },
    'datasets:preview': { id: 'nope-123', count: 4 },
    'datasets:rename': { id: 'nope-123', name: 'x' },
    'datasets:delete': { id: 'nope-123' },
    'datasets:import': {
      source: { paths: [images] },
      name: 'Fuzz',
      options: { size: 8, mode: 'grayscale', fit: 'stretch', validationSplit: 0.1, seed: 1 },
    },
    'datasets:previewImport': { source: { paths: [images] }, options: { size: 8 }, count: 2 },
    'datasets:cancelImport': { jobId: 'imp-000000000000' },
    'datasets:uploadChunk': { uploadId: 'up-0000000000000000', path: 'a/b.png', data: 'AAAA', append: false },
    'datasets:uploadDiscard': { uploadId: 'up-0000000000000000' },
    'gallery:triplets': { runId, count: 4 },
    'gallery:samples': { runId, count: 4, seed: 1 },
    'gallery:samplers': { runId, count: 4, seed: 1, measure: false },
    'gallery:chooseSampler': { runId, sampler: 'full' },
    'inspect:images': { runId, count: 4 },
    'inspect:calibrate': {
      runId,
      count: 4,
      settings: { map: 'l2', smoothSigma: 2, topkPercent: 1, score: 'topk' },
      percentile: 99,
    },
    'inspect:threshold': { runId, value: 0.5 },
    'inspect:try': { runId, files: [{ name: 'a.png', data: 'AAAA' }], tile: false },
    'gallery:worst': { runId, count: 4 },
    'gallery:latent': { runId, max: 100 },
    'gallery:manifold': { runId, grid: 4 },
    'gallery:interpolate': { runId, a: 0, b: 1, steps: 4 },
    'evaluate:run': { runId, anomalous: [1] },
    'export:model': { runId, format: 'tfjs', part: 'full' },
    'export:latents': { runId },
    'export:gallery': { runId, view: 'samples', count: 4, seed: 1 },
    'export:list': { runId },
    'export:saveAs': { exportId: 'exp-20260101-000000-abcdef' },
    'settings:set': {
      theme: 'dark',
      modelDraft: {
        dataset: 'builtin:mnist',
        count: 100,
        form: { epochs: 2, hiddenText: '32, 64', noise: { type: 'none', level: 0 } },
      },
    },
    'jobs:export': { runId, fromCheckpoint: true },
    'jobs:import': { path: outside },
  };
}

const huge = 'x'.repeat(2 * 1024 * 1024);
const hugeArray = Array.from({ length: 100_000 }, () => 'a');
const deep = (() => {
  let o: Record<string, unknown> = {};
  for (let i = 0; i < 5_000; i++) o = { a: o };
  return o;
})();
/** Values no field accepts: each must be refused with invalid_payload. */
const INVALID: Array<[string, unknown]> = [
  ['null', null],
  ['true', true],
  ['object', { a: 1 }],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['1e308', 1e308],
  ['2 MB string', huge],
  ['100k array', hugeArray],
  ['5000-deep object', deep],
  ['function-like string number', '1; rm -rf /'],
];
/** Text that is a valid string but hostile: refused by a field's own rules, or kept as plain text. */
const HOSTILE_TEXT: Array<[string, unknown]> = [
  ['../ traversal', `../../${MARK}`],
  ['..\\ traversal', `..\\..\\${MARK}`],
  ['NUL byte', `a\u0000${MARK}`],
  ['__proto__ text', '__proto__'],
  ['absolute /etc/passwd', '/etc/passwd'],
  ['-0', -0],
  ['empty string', ''],
  ['RTL + control chars', `\u202e\u0007${MARK}\r\n`],
];

/** Payloads for one call: [label, payload, mustRefuse]. */
function payloadsFor(name: string, base: Record<string, unknown> | undefined): Array<[string, unknown, boolean]> {
  const out: Array<[string, unknown, boolean]> = [];
  const shape = (calls as Record<string, { req: { shape?: Record<string, unknown> } }>)[name].req.shape ?? {};
  const b = base ?? {};
  // the whole payload
  for (const [label, v] of [
    ['number', 42],
    ['string', 'x'],
    ['array', []],
    ['true', true],
    ['NaN', Number.NaN],
    ['deep', deep],
  ] as Array<[string, unknown]>)
    out.push([`payload=${label}`, v, true]);
  out.push(['payload=null', null, false]); // null means "no fields": fine for calls without required fields
  // unknown and prototype-pollution keys at the top level
  out.push(['extra key', { ...b, extra: 1 }, true]);
  out.push([
    '__proto__ key',
    JSON.parse(`{"__proto__": {"polluted": "yes"}, ${JSON.stringify(b).slice(1, -1) || '"x": 1'}}`),
    true,
  ]);
  out.push(['constructor key', { ...b, constructor: { prototype: { polluted: 'yes' } } }, true]);
  // every field of the call, and one level down for object fields (config, dataset, options, source…)
  const fields = new Set([...Object.keys(shape), ...Object.keys(b)]);
  const mutate = (obj: Record<string, unknown>, set: (o: Record<string, unknown>) => unknown, prefix: string) => {
    for (const key of Object.keys(obj)) {
      const typeOf = (x: unknown) => (Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x);
      for (const [label, v] of INVALID) {
        // a value of the baseline's own type is not necessarily invalid (e.g. an object field given an object)
        const same =
          typeOf(v) === typeOf(obj[key]) &&
          !['2 MB string', '100k array', 'NaN', 'Infinity', '-Infinity', '1e308'].includes(label);
        out.push([`${prefix}${key}=${label}`, set({ ...obj, [key]: v }), !same]);
      }
      for (const [label, v] of HOSTILE_TEXT)
        out.push([`${prefix}${key}=${label}`, set({ ...obj, [key]: v }), typeOf(v) !== typeOf(obj[key])]);
      out.push([
        `${prefix}${key} missing`,
        set(Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key))),
        false,
      ]);
      const inner = obj[key];
      if (inner && typeof inner === 'object' && !Array.isArray(inner) && !prefix) {
        mutate(inner as Record<string, unknown>, (o) => set({ ...obj, [key]: o }), `${key}.`);
        out.push([
          `${key}.__proto__`,
          set({
            ...obj,
            [key]: JSON.parse(`{"__proto__": {"polluted": "yes"}, ${JSON.stringify(inner).slice(1, -1) || '"x": 1'}}`),
          }),
          true,
        ]);
      }
      if (Array.isArray(inner) && !prefix) {
        for (const [label, v] of [
          ['NaN element', Number.NaN],
          ['object element', { a: 1 }],
          ['../ element', `../${MARK}`],
        ] as Array<[string, unknown]>) {
          out.push([
            `${key}[0]=${label}`,
            set({ ...obj, [key]: [v, ...inner.slice(1)] }),
            typeof v !== typeof inner[0] || Number.isNaN(v as number),
          ]);
        }
      }
    }
  };
  const filled = Object.fromEntries([...fields].map((k) => [k, k in b ? b[k] : 'x']));
  mutate(filled, (o) => o, '');
  return out;
}

function snapshot(dir: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (p === skip) continue;
      out.push(`${p}:${e.isDirectory() ? 'dir' : fs.lstatSync(p).size}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Paths whose name contains the marker, under `dir` (depth-limited), outside the workspace. */
function findMarker(dir: string, depth: number): string[] {
  const hits: string[] = [];
  const walk = (d: string, level: number) => {
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (p === workspace) continue;
      if (e.name.includes(MARK)) hits.push(p);
      if (e.isDirectory() && level < depth && !['node_modules', '.git', 'proc', 'sys'].includes(e.name))
        walk(p, level + 1);
    }
  };
  walk(dir, 0);
  return hits;
}

describe('hostile input: every host call fuzzed', () => {
  it(`${CALL_NAMES.length} calls: typed errors only, no crash, nothing outside the workspace`, async () => {
    const invalid = tally(
      'hostile',
      'fuzzed invalid payloads, every call (wrong types, NaN/±Inf/1e308, 2 MB strings, 100k arrays, unknown/__proto__/constructor keys)',
    );
    const text = tally(
      'hostile',
      'fuzzed type-valid hostile text (../, NUL, __proto__, -0, control chars): typed answer, confined to the workspace',
    );
    try {
      fs.mkdirSync(images, { recursive: true });
      const sharp = (await import('sharp')).default;
      fs.writeFileSync(
        path.join(images, 'a.png'),
        await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 9, b: 9 } } })
          .png()
          .toBuffer(),
      );
      fs.writeFileSync(path.join(outside, 'keep.txt'), 'untouched');
      h = createHarness(workspace);
      const before = snapshot(parent, workspace);
      const base = baselines();
      const perCall: Record<string, number> = {};
      const textOutcome = { accepted: 0, refused: 0 };
      for (const name of CALL_NAMES) {
        const list = payloadsFor(name, base[name] as Record<string, unknown> | undefined);
        perCall[name] = list.length;
        for (const [label, payload, mustRefuse] of list) {
          const t = mustRefuse ? invalid : text;
          await t.attempt(async () => {
            let env: Envelope;
            try {
              env = await h.host.dispatch(name, payload);
            } catch (err) {
              throw new Error(`${name} ${label}: dispatch threw ${(err as Error).message}`);
            }
            if (mustRefuse)
              expect(env, `${name} ${label}`).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
            if (!mustRefuse) textOutcome[env.ok ? 'accepted' : 'refused']++;
            if (!env.ok) {
              expect(ERROR_CODES, `${name} ${label}`).toContain(env.error.code);
              expect(typeof env.error.message).toBe('string');
              expect(env.error.message.length, `${name} ${label}: message too long`).toBeLessThan(20_000);
            }
          });
        }
      }
      // unknown call names too
      for (const bad of ['__proto__', 'constructor', 'toString', 'runs:start ', '../app:info', '', huge]) {
        await invalid.attempt(async () =>
          expect(await h.host.dispatch(bad, {})).toMatchObject({ ok: false, error: { code: 'unknown_call' } }),
        );
      }
      // let accepted imports finish before looking at the disk
      await new Promise((r) => setTimeout(r, 1500));
      await h.call('runs:list', {});
      // still alive: host and trainer
      expect(await h.host.dispatch('app:info', {})).toMatchObject({ ok: true });
      expect(await h.host.dispatch('trainer:ping', { nonce: 'alive' })).toMatchObject({
        ok: true,
        result: { nonce: 'alive' },
      });
      // no prototype was polluted
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
      // nothing outside the workspace: the parent folder is as it was, and the marker appears nowhere else
      expect(snapshot(parent, workspace)).toEqual(before);
      expect(fs.readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('untouched');
      const escaped = [...findMarker(os.tmpdir(), 2), ...findMarker(repoRoot, 2), ...findMarker('/', 1)];
      expect(escaped).toEqual([]);
      text.note(`${textOutcome.refused} refused by the field's rules, ${textOutcome.accepted} accepted as plain text`);
      expect(textOutcome.accepted).toBeGreaterThan(0); // e.g. '../' dataset names are sanitised, not refused
      expect(fs.readdirSync(path.join(workspace, 'datasets')).length).toBeGreaterThan(0);
      invalid.note(
        `${Object.keys(perCall).length} calls, ${Math.min(...Object.values(perCall))}–${Math.max(...Object.values(perCall))} payloads each`,
      );
    } finally {
      invalid.done();
      text.done();
    }
  });
});
