// The C allocator's settings for TensorFlow processes (src-main/engine/allocator.ts): the
// GLIBC_TUNABLES value keeps the user's own tunables and adds ours; the trainer's and the CLI's
// TensorFlow child's environments carry it; and a real Node process started with it re-uses freed
// memory instead of faulting it back in (glibc only: elsewhere the variable is ignored).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { glibcTunables, MALLOC_TUNABLES } from '../../../../src-main/engine/allocator';
import { trainerEnv } from '../../../../src-main/trainer/supervisor';
import { filteredChildEnv } from '../../../../src-main/cli/quiet';

const ours = Object.entries(MALLOC_TUNABLES).map(([k, v]) => `${k}=${v}`);

describe('glibcTunables', () => {
  it('adds ours when none are set', () => {
    expect(glibcTunables(undefined).split(':').sort()).toEqual([...ours].sort());
    expect(glibcTunables('').split(':').sort()).toEqual([...ours].sort());
  });

  it("keeps the user's tunables and their values for the keys they set", () => {
    const v = glibcTunables('glibc.malloc.trim_threshold=1000:glibc.malloc.arena_max=2');
    const parts = v.split(':');
    expect(parts).toContain('glibc.malloc.trim_threshold=1000');
    expect(parts).toContain('glibc.malloc.arena_max=2');
    expect(parts).toContain(`glibc.malloc.mmap_threshold=${MALLOC_TUNABLES['glibc.malloc.mmap_threshold']}`);
    expect(parts.filter((p) => p.startsWith('glibc.malloc.trim_threshold='))).toHaveLength(1);
  });

  it("is in the trainer's environment and the CLI's TensorFlow child's", () => {
    const saved = process.env.GLIBC_TUNABLES;
    try {
      delete process.env.GLIBC_TUNABLES;
      expect(trainerEnv().GLIBC_TUNABLES).toBe(glibcTunables(undefined));
      process.env.GLIBC_TUNABLES = 'glibc.malloc.arena_max=1';
      expect(trainerEnv().GLIBC_TUNABLES.split(':')).toContain('glibc.malloc.arena_max=1');
      // The CLI's TensorFlow commands run in a child with them too.
      expect(filteredChildEnv({ PATH: '/bin' }).GLIBC_TUNABLES).toBe(glibcTunables(undefined));
      expect(filteredChildEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=1' }).GLIBC_TUNABLES).toBe(
        glibcTunables('glibc.malloc.arena_max=1'),
      );
    } finally {
      if (saved === undefined) delete process.env.GLIBC_TUNABLES;
      else process.env.GLIBC_TUNABLES = saved;
    }
  });
});

const glibc = Boolean(
  (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
    ?.glibcVersionRuntime,
);

describe.runIf(process.platform === 'linux' && glibc)('a process started with them (glibc)', () => {
  // 32 buffers of 1 MiB, dropped and collected, then 32 again: the page faults of the second round.
  const script = `
    const round = () => { const a = []; for (let i = 0; i < 32; i++) { const b = new Uint8Array(1 << 20); b.fill(1); a.push(b); } return a; };
    let a = round(); a = null; gc();
    const f0 = process.resourceUsage().minorPageFault;
    a = round();
    console.log(process.resourceUsage().minorPageFault - f0);`;
  const faults = (tunables: string | undefined) => {
    const env = { ...process.env };
    delete env.GLIBC_TUNABLES;
    if (tunables !== undefined) env.GLIBC_TUNABLES = tunables;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return Number(r.stdout.trim());
  };

  it('re-uses freed memory where the defaults give it back and fault it in again', () => {
    const pages = (32 << 20) / 4096;
    expect(faults(undefined), "glibc's defaults: the second round faults its pages in again").toBeGreaterThan(
      pages / 2,
    );
    expect(faults(glibcTunables(undefined)), 'with ours: the freed memory is used again').toBeLessThan(pages / 20);
  });
});
