// Disk full (ENOSPC) during import, checkpoint and a manifest write — a REAL full filesystem, no
// mocked fs: the host and trainer run in a child process inside a private mount namespace whose
// workspace is a small tmpfs (`unshare --user --map-root-user --mount` + `mount -t tmpfs -o size=…`,
// or plain `unshare --mount` as root). Where neither is allowed (e.g. a container without user
// namespaces) those cases are reported as not run, and the /dev/full case still runs: a write
// to /dev/full always fails with ENOSPC.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/trainer';
import { createHarness, tempDir, type Harness } from './harness';
import { record, tally } from './record';

const child = path.join(repoRoot, 'test', 'reliability', 'fixtures', 'enospc-host.ts');

/** The command prefix that gives a child a private tmpfs, or undefined when none works here. */
function tmpfsMechanism(): { name: string; prefix: string[] } | undefined {
  const probe = tempDir('probe');
  const candidates = [
    {
      name: 'unshare --user --map-root-user --mount + tmpfs',
      prefix: ['unshare', '--user', '--map-root-user', '--mount'],
    },
    { name: 'unshare --mount + tmpfs (root)', prefix: ['unshare', '--mount'] },
  ];
  for (const c of candidates) {
    const r = spawnSync(
      c.prefix[0],
      [
        ...c.prefix.slice(1),
        'sh',
        '-c',
        'mount -t tmpfs -o size=1m tmpfs "$0" && head -c 2000000 /dev/zero > "$0/x" 2>/dev/null; echo $?',
        probe,
      ],
      {
        encoding: 'utf8',
      },
    );
    // the probe must mount AND hit a full disk (head exits non-zero)
    if (r.status === 0 && r.stdout.trim() !== '' && r.stdout.trim() !== '0') return c;
  }
  return undefined;
}

/** Runs the ENOSPC host scenario inside a fresh mount namespace with a `sizeMb` tmpfs workspace. */
function runInTmpfs(prefix: string[], sizeMb: number, args: string[]): Promise<any> {
  const mnt = tempDir('tmpfs');
  return new Promise((resolve, reject) => {
    const p = spawn(
      prefix[0],
      [
        ...prefix.slice(1),
        'sh',
        '-c',
        `mount -t tmpfs -o size=${sizeMb}m tmpfs "$0" && exec "$@"`,
        mnt,
        process.execPath,
        '--import',
        'tsx',
        child,
        args[0],
        mnt,
        ...args.slice(1),
      ],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
      },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 170_000);
    p.on('exit', () => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) return reject(new Error(`no result from the tmpfs host:\n${out.slice(-2000)}\n${err.slice(-2000)}`));
      const res = JSON.parse(line.slice(7));
      if (res.error) return reject(new Error(res.error));
      resolve(res);
    });
  });
}

const mech = tmpfsMechanism();
let h: Harness | undefined;
afterAll(async () => h?.dispose());

describe('faults: disk full (ENOSPC)', () => {
  it.runIf(!!mech)(
    'import meets a full disk: a clear error, no partial dataset, the earlier dataset intact',
    async () => {
      const t = tally('fault', 'ENOSPC during import');
      t.note(`tmpfs 4 MB via ${mech?.name}`);
      try {
        await t.attempt(async () => {
          const src = tempDir('enospc-src');
          const small = path.join(src, 'small');
          fs.mkdirSync(small);
          const sharp = (await import('sharp')).default;
          for (let i = 0; i < 20; i++)
            fs.writeFileSync(
              path.join(small, `${i}.png`),
              await sharp({ create: { width: 28, height: 28, channels: 3, background: { r: i * 10, g: 0, b: 0 } } })
                .png()
                .toBuffer(),
            );
          // 8,000 images of 28×28 = 6.3 MB of pixels: more than the 4 MB disk holds
          const header = "{'descr': '|u1', 'fortran_order': False, 'shape': (8000, 28, 28), }";
          const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
          const npy = Buffer.concat([
            Buffer.from('\x93NUMPY\x01\x00', 'latin1'),
            Buffer.from([padded.length & 255, padded.length >> 8]),
            Buffer.from(padded, 'latin1'),
            Buffer.alloc(8000 * 784, 7),
          ]);
          fs.writeFileSync(path.join(src, 'big.npy'), npy);
          const r = await runInTmpfs(mech!.prefix, 4, ['import', small, path.join(src, 'big.npy')]);
          expect(r.earlier.status).toBe('done');
          expect(r.failed).toMatchObject({
            status: 'failed',
            message: expect.stringMatching(/The import failed: ENOSPC: no space left on device.*Nothing was written/),
          });
          // earlier data intact, byte for byte, and still previews
          if (JSON.stringify(r.after) !== JSON.stringify(r.before)) t.lost();
          expect(r.after).toEqual(r.before);
          expect(r.previewOk).toBe(true);
          // nothing half-written is listed or left behind
          expect(r.list.map((d: { id: string }) => d.id)).toEqual([r.earlier.id]);
          expect(r.tree.filter((p: string) => !p.startsWith(`datasets/${r.earlier.id}`))).toEqual([]);
        });
      } finally {
        t.done();
      }
    },
  );

  it.runIf(!!mech)(
    'a checkpoint meets a full disk: the run stops clearly, the last checkpoint is intact, resume works once space is freed',
    async () => {
      const t = tally('fault', 'ENOSPC during a checkpoint, then resume');
      t.note(`tmpfs 12 MB via ${mech?.name}`);
      try {
        await t.attempt(async () => {
          const r = await runInTmpfs(mech!.prefix, 12, ['checkpoint']);
          expect(r.fillCode).toBe('ENOSPC');
          expect(r.alive).toBe(true);
          expect(r.failed).toMatchObject({
            status: 'failed',
            epochsDone: 1,
            message: expect.stringMatching(
              /the disk is full \(ENOSPC: no space left on device.*\)\. The last checkpoint \(epoch 1\) is intact; resume continues from it\. Free some space and resume/,
            ),
          });
          if (JSON.stringify(r.ckptAfter) !== JSON.stringify(r.ckptBefore) || r.state.epochsDone !== 1) t.lost();
          expect(r.ckptAfter).toEqual(r.ckptBefore);
          expect(r.state.epochsDone).toBe(1);
          expect(r.listed).toMatchObject({ status: 'failed', epochsDone: 1 });
          expect(r.listed.history.loss.length).toBe(1);
          // no half-written checkpoint or model folder is left as if valid
          expect(r.treeAfterFail.filter((p: string) => /tmp-|^runs\/[^/]+\/model\//.test(p))).toEqual([]);
          expect(r.end).toMatchObject({ status: 'completed', epochsDone: 3 });
          expect(r.resumedEpochs).toEqual([2, 3]);
        });
      } finally {
        t.done();
      }
    },
  );

  // Always runs: says which way a full disk is produced here. Without a mount namespace the three
  // tmpfs cases above and below cannot run (reported NOT RUN in the table), and what is left is a
  // real ENOSPC from /dev/full, which this checks.
  it('a real full disk is available: a private tmpfs, else at least /dev/full', () => {
    if (mech) {
      // the namespace really gives a small disk that fills: writing 2 MB to a 1 MB tmpfs fails with ENOSPC
      const dir = tempDir('full');
      const r = spawnSync(
        mech.prefix[0],
        [
          ...mech.prefix.slice(1),
          'sh',
          '-c',
          'mount -t tmpfs -o size=1m tmpfs "$0" && head -c 2000000 /dev/zero > "$0/x"; echo "exit=$?"',
          dir,
        ],
        {
          encoding: 'utf8',
        },
      );
      expect(r.stderr).toMatch(/No space left on device/);
      expect(r.stdout.trim()).not.toBe('exit=0');
      expect(fs.existsSync(path.join(dir, 'x')), 'the 2 MB went to the private tmpfs, not the real disk').toBe(false);
      return;
    }
    record({
      category: 'fault',
      item: 'ENOSPC during import / checkpoint / export',
      tried: 0,
      ok: 0,
      dataLost: 0,
      note: 'NOT RUN: unshare/mount not permitted here',
    });
    expect(() => fs.writeFileSync('/dev/full', 'x')).toThrow(/ENOSPC/);
  });

  it('a dataset manifest write meets ENOSPC (/dev/full): a clear error, the old manifest intact, no temp file left', async () => {
    const t = tally('fault', 'ENOSPC writing a dataset manifest');
    t.note('/dev/full behind the temp file');
    try {
      await t.attempt(async () => {
        h = createHarness();
        const { writeDataset } = await import('../../src-main/datasets/store');
        const raw = {
          images: new Uint8Array(50 * 784).fill(3),
          labels: new Int32Array(50),
          labelNames: ['a'],
          shape: [28, 28, 1] as [number, number, number],
          count: 50,
        };
        const m = await writeDataset(h.workspace, 'Before', raw, { kind: 'builtin', builtin: 'test' });
        const manifest = path.join(h.workspace, 'datasets', m.id, 'manifest.json');
        const before = fs.readFileSync(manifest, 'utf8');
        // the atomic write's temp file (manifest.json.tmp-<pid>) is a link to /dev/full
        fs.symlinkSync('/dev/full', `${manifest}.tmp-${process.pid}`);
        const r = await h.host.dispatch('datasets:rename', { id: m.id, name: 'After' });
        expect(r).toMatchObject({
          ok: false,
          error: { code: 'disk_full', message: expect.stringMatching(/ENOSPC: no space left on device/) },
        });
        const after = fs.readFileSync(manifest, 'utf8');
        if (after !== before) t.lost();
        expect(after).toBe(before);
        expect(fs.readdirSync(path.dirname(manifest)).sort()).toEqual([
          'images.u8',
          'labels.i32',
          'manifest.json',
          'mean.u8',
        ]);
        expect(await h.host.dispatch('datasets:list', {})).toMatchObject({
          ok: true,
          result: [{ id: m.id, name: 'Before' }],
        });
        expect(await h.host.dispatch('datasets:rename', { id: m.id, name: 'After' })).toMatchObject({
          ok: true,
          result: { name: 'After' },
        }); // space again
      });
    } finally {
      t.done();
    }
  });

  it.runIf(!!mech)(
    'exports meet a full disk: a clear error, no partial export listed or left, the earlier export intact',
    async () => {
      const t = tally('fault', 'ENOSPC during export (TensorFlow.js, Keras, ONNX)');
      t.note(`tmpfs 16 MB via ${mech?.name}`);
      try {
        await t.attempt(async () => {
          const r = await runInTmpfs(mech!.prefix, 16, ['export']);
          expect(r.fillCode).toBe('ENOSPC');
          for (const f of r.failures)
            expect(f, JSON.stringify(f)).toMatchObject({
              ok: false,
              error: { message: expect.stringMatching(/ENOSPC|no space left/i) },
            });
          if (JSON.stringify(r.after) !== JSON.stringify(r.before)) t.lost();
          expect(r.after).toEqual(r.before); // the earlier export, byte for byte, and nothing else under exports/
          expect(r.list).toEqual([r.first.exportId]);
          expect(r.alive).toBe(true);
          expect(r.againOk, JSON.stringify(r.againError)).toBe(true);
        });
      } finally {
        t.done();
      }
    },
  );
});
