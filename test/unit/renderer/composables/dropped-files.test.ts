// @vitest-environment happy-dom
// Dropped and picked files (composables/useDropFiles.ts, stores/datasets.ts): in the desktop app a
// picked folder goes to the host as one path (its sub-folders become the labels), not file by file;
// an upload that is discarded or replaced by another drop is removed on the host.
import { describe, expect, it } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import { importRoots } from '../../../../src-renderer/composables/useDropFiles';
import { useDatasetsStore } from '../../../../src-renderer/stores/datasets';
import { freshPinia, iconsHost } from '../icons-host';

freshPinia();

describe('folder labels in the desktop app', () => {
  it('sends the picked folder (its sub-folders become labels), not every file in it', () => {
    const file = (rel: string) => ({ file: new File(['x'], rel.split('/').pop()!), relPath: rel });
    const files = [file('pics/apps/a.png'), file('pics/files/b.png'), file('pics/files/deep/c.png')];
    const abs = new Map(files.map((f) => [f.file, `/home/me/${f.relPath}`]));
    expect(importRoots(files, (f) => abs.get(f)!)).toEqual(['/home/me/pics']);
    // loose files stay files; Windows paths keep their separator
    const loose = [file('a.png'), file('b.png')];
    const winAbs = new Map(loose.map((f) => [f.file, `C:\\Users\\me\\${f.relPath}`]));
    expect(importRoots(loose, (f) => winAbs.get(f)!)).toEqual(['C:\\Users\\me\\a.png', 'C:\\Users\\me\\b.png']);
    // a file without a path: no paths at all (the renderer uploads instead)
    expect(importRoots(loose, () => '')).toBeUndefined();
    // two folders dropped together are labelled by their names, as an upload is: uploaded
    const two = [file('cats/a.png'), file('dogs/b.png')];
    expect(importRoots(two, (f) => `/home/me/${two.find((x) => x.file === f)!.relPath}`)).toBeUndefined();
  });

  it('stages the folder path for the preview and the import', async () => {
    const t = iconsHost({
      'datasets:previewImport': () => ({
        ok: true,
        result: { images: [], labels: [], shape: [32, 32, 3], skipped: 0 },
      }),
    });
    const ds = useDatasetsStore();
    const f = new File(['x'], 'a.png');
    await ds.stageFiles([{ file: f, relPath: 'pics/apps/a.png' }], () => '/home/me/pics/apps/a.png');
    expect(t.calls.find((c) => c.name === 'datasets:previewImport')?.payload).toMatchObject({
      source: { paths: ['/home/me/pics'] },
    });
  });
});

describe('a discarded drop', () => {
  it('asks the host to remove the uploaded files on Discard and when another drop replaces it', async () => {
    let n = 0;
    const t = iconsHost({
      'datasets:uploadBegin': () => ({ ok: true, result: { uploadId: `up-000000000000000${++n}` } }),
      'datasets:uploadChunk': () => ({ ok: true, result: { bytes: 1 } }),
      'datasets:uploadDiscard': () => ({ ok: true, result: { discarded: true } }),
      'datasets:previewImport': () => ({
        ok: true,
        result: { images: [], labels: [], shape: [28, 28, 1], skipped: 0 },
      }),
    });
    const ds = useDatasetsStore();
    const drop = () =>
      ds.stageFiles([{ file: new File([new Uint8Array([1, 2, 3])], 'a.png'), relPath: 'pics/a/a.png' }]);
    await drop();
    await drop(); // the first upload was never imported
    ds.discardStaged();
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'datasets:uploadDiscard').map((c) => c.payload)).toEqual([
      { uploadId: 'up-0000000000000001' },
      { uploadId: 'up-0000000000000002' },
    ]);
    expect(ds.staged).toBeUndefined();
  });
});
