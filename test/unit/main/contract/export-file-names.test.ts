// contract/export.ts: export files are named by the run's name, file-safe and unique among the
// workspace's runs (the host's exports and cluster jobs, and the Gallery's scores CSV, alike).
import { describe, expect, it } from 'vitest';
import { exportFileBase, fileSafeName } from '../../../../src-main/contract';

describe('export file names', () => {
  it("makes a run's name file-safe: ASCII, lower case, dashes, capped", () => {
    expect(fileSafeName('Convolutional, 128-d code, denoising on pics')).toBe(
      'convolutional-128-d-code-denoising-on-pics',
    );
    expect(fileSafeName('Café: naïve / ../../etc (v2)')).toBe('cafe-naive-etc-v2');
    expect(fileSafeName('日本語')).toBe('');
    expect(fileSafeName('a'.repeat(59) + ' b c')).toBe('a'.repeat(59));
    expect(fileSafeName('x'.repeat(200))).toHaveLength(60);
  });

  it("uses the run id without a usable name, and adds the end of the id when another run's name gives the same file names", () => {
    const a = { runId: 'run-20261206-160000-ab12', name: 'Pics, 16-d' };
    const b = { runId: 'run-20261206-170000-cd34', name: 'pics 16 d' };
    expect(exportFileBase(a, [a])).toBe('pics-16-d');
    expect(exportFileBase(a, [a, b])).toBe('pics-16-d-ab12');
    expect(exportFileBase(b, [a, b])).toBe('pics-16-d-cd34');
    expect(exportFileBase({ runId: 'run-1' }, [a])).toBe('run-1');
    expect(exportFileBase({ runId: 'run-2', name: '★★★' }, [])).toBe('run-2');
  });
});
