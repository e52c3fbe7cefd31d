// @vitest-environment happy-dom
// The renderer's part of what a user with their own pictures ran into — folder labels in
// the desktop app (the dropped folder, not each file, goes to the host), label names on the latent
// map, state that survives a reload (the draft config in the workspace, the run list's order, a
// finished run's speed and previews from the host), the network summary despite a bad training
// field, a stopped run's stats, a stale speed table, charts following the theme, discarded uploads,
// epochs suggested for a small dataset, run names — over the in-memory fake host.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, ref } from 'vue';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createClient } from '../../../src-renderer/api/client';
import { setApi } from '../../../src-renderer/api/instance';
import { importRoots } from '../../../src-renderer/composables/useDropFiles';
import { useDatasetsStore } from '../../../src-renderer/stores/datasets';
import { DRAFT_SAVE_MS, useModelStore } from '../../../src-renderer/stores/model';
import { useRunsStore } from '../../../src-renderer/stores/runs';
import { useWorkspaceStore } from '../../../src-renderer/stores/workspace';
import { themeTick, useUplot } from '../../../src-renderer/composables/useUplot';
import ModelView from '../../../src-renderer/views/ModelView.vue';
import TrainView from '../../../src-renderer/views/TrainView.vue';
import LatentMap from '../../../src-renderer/components/gallery/LatentMap.vue';
import ImageGrid from '../../../src-renderer/components/gallery/ImageGrid.vue';
import { modelTitle } from '../../../src-renderer/components/training/describe';
import type { ExportRecord } from '@contract';
import ExportSnippet from '../../../src-renderer/components/export/ExportSnippet.vue';
import { FakeTransport, hostDecided, runConfig } from './fake-host';
import type { DatasetManifest, RunPreview, RunSummary } from '@contract';

// happy-dom has no 2-D canvas: a stand-in uPlot that only records that a chart was built
vi.mock('uplot', () => ({
  default: class {
    width = 600;
    destroy() {}
    setData() {}
    setSize() {}
  },
}));

const px = (v: number, n = 784) => btoa(String.fromCharCode(...new Array<number>(n).fill(v)));
const icons: DatasetManifest = {
  schemaVersion: 1,
  id: 'icons-abc123',
  name: 'Desktop icons',
  source: { kind: 'import', paths: ['/x'] },
  shape: [32, 32, 3],
  count: 404,
  labelNames: ['apps', 'files', 'folders', 'system'],
  labelCounts: [101, 101, 101, 101],
  createdAt: 5,
  options: { size: 32, mode: 'rgb', fit: 'stretch', validationSplit: 0.1, seed: 42 },
};
const WS = { path: '/ws', schemaVersion: 1, datasets: 1, runs: 0, exports: 0, flagged: [], nativeDialogs: false };
const run = (runId: string, startedAt: number, extra: Partial<RunSummary> = {}): RunSummary =>
  hostDecided({
    runId,
    status: 'completed',
    config: runConfig({ kind: 'conv-vae', latentDim: 16, epochs: 30, hidden: [32, 64], noise: { type: 'none', level: 0 } }),
    dataset: { id: 'icons-abc123', count: 404 },
    epochsDone: 30,
    history: { loss: [0.1], valLoss: [0.1] },
    startedAt,
    ...extra,
  } as RunSummary);

function host(extra: ConstructorParameters<typeof FakeTransport>[0] = {}) {
  const t = new FakeTransport({
    'datasets:list': () => ({ ok: true, result: [icons] }),
    'datasets:preview': () => ({ ok: true, result: { manifest: icons, images: [], mean: px(0, 3072) } }),
    'runs:list': () => ({ ok: true, result: [] }),
    'runs:preview': () => ({ ok: true, result: null }),
    ...extra,
  });
  setApi(createClient(t));
  return t;
}

let pinia: ReturnType<typeof createPinia>;
beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '';
});
afterEach(async () => {
  vi.useRealTimers();
  await flushPromises();
  (pinia as unknown as { _e: { stop(): void } })._e.stop(); // no watcher of this test's stores outlives it
});

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
    const t = host({ 'datasets:previewImport': () => ({ ok: true, result: { images: [], labels: [], shape: [32, 32, 3], skipped: 0 } }) });
    const ds = useDatasetsStore();
    const f = new File(['x'], 'a.png');
    await ds.stageFiles([{ file: f, relPath: 'pics/apps/a.png' }], () => '/home/me/pics/apps/a.png');
    expect(t.calls.find((c) => c.name === 'datasets:previewImport')?.payload).toMatchObject({ source: { paths: ['/home/me/pics'] } });
  });
});

describe('a discarded drop', () => {
  it('asks the host to remove the uploaded files on Discard and when another drop replaces it', async () => {
    let n = 0;
    const t = host({
      'datasets:uploadBegin': () => ({ ok: true, result: { uploadId: `up-000000000000000${++n}` } }),
      'datasets:uploadChunk': () => ({ ok: true, result: { bytes: 1 } }),
      'datasets:uploadDiscard': () => ({ ok: true, result: { discarded: true } }),
      'datasets:previewImport': () => ({ ok: true, result: { images: [], labels: [], shape: [28, 28, 1], skipped: 0 } }),
    });
    const ds = useDatasetsStore();
    const drop = () => ds.stageFiles([{ file: new File([new Uint8Array([1, 2, 3])], 'a.png'), relPath: 'pics/a/a.png' }]);
    await drop();
    await drop(); // the first upload was never imported
    ds.discardStaged();
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'datasets:uploadDiscard').map((c) => c.payload)).toEqual([{ uploadId: 'up-0000000000000001' }, { uploadId: 'up-0000000000000002' }]);
    expect(ds.staged).toBeUndefined();
  });
});

describe('label names', () => {
  it('shows the stored names in the latent map legend, not label numbers', () => {
    const w = mount(LatentMap, { props: { data: { points: [0, 0, 1, 1, 2, 0], labels: [2, 0, 2], labelNames: ['apps', 'files', 'folders', 'system'], method: 'pca', explained: 0.8 } } });
    expect(w.findAll('[data-testid="latent-legend"] li').map((li) => li.text())).toEqual(['apps', 'folders']);
  });
});

describe('one grid for the Gallery rows', () => {
  it('puts every image in a fixed-width column of one grid, captions included', () => {
    const img = px(9);
    const caption = 'MSE 0.0123\nPSNR 19.1 dB\nSSIM 0.812 — a long caption that must not widen its column';
    const w = mount(ImageGrid, {
      props: {
        shape: [28, 28, 1],
        rows: [
          { key: 'originals', label: 'Original', images: [img, img, img] },
          { key: 'reconstructions', label: 'Reconstruction', images: [img, img, img], captions: [caption, caption, caption] },
        ],
      },
    });
    const grid = w.find('[data-testid="image-grid"]');
    expect((grid.element as HTMLElement).style.gridTemplateColumns).toBe('auto repeat(3, 78px)');
    expect(w.findAll('figure[data-row="originals"]').map((f) => f.attributes('data-col'))).toEqual(['0', '1', '2']);
    expect(w.findAll('figure[data-row="reconstructions"]').map((f) => f.attributes('data-col'))).toEqual(['0', '1', '2']);
    // a shorter row is padded so the next row starts in the first column again
    const w2 = mount(ImageGrid, {
      props: {
        shape: [28, 28, 1],
        rows: [
          { key: 'a', label: 'A', images: [img, img] },
          { key: 'b', label: 'B', images: [img] },
        ],
      },
    });
    expect(w2.find('[data-testid="image-grid"]').element.children).toHaveLength(2 * 3);
  });
});

describe('what a reload keeps', () => {
  it('restores the Model view from the workspace draft and saves every change there', async () => {
    const draft = {
      dataset: 'icons-abc123',
      count: 404,
      presetId: 'conv',
      form: { kind: 'conv', latentDim: 16, hiddenText: '32, 64', epochs: 84, batchSize: 32, learningRate: 0.002, bogus: 'x', seed: 'not a number', noise: { type: 'gaussian', level: 0.2 } },
    };
    const t = host({
      'workspace:info': () => ({ ok: true, result: { ...WS, settings: { theme: 'system', maxConcurrentRuns: 2, modelDraft: draft } } }),
      'settings:set': (p) => ({ ok: true, result: { theme: 'system', maxConcurrentRuns: 2, ...(p as object) } }),
    });
    const m = useModelStore();
    await useWorkspaceStore().init();
    await useDatasetsStore().refresh();
    await flushPromises();
    expect(m.source).toBe('icons-abc123');
    expect(m.count).toBe(404);
    expect(m.form.epochs).toBe(84);
    expect(m.form.seed).toBe(42); // a field of the wrong type is left as it was
    expect(m.form.noise).toEqual({ type: 'gaussian', level: 0.2 });
    expect(m.config.inputShape).toEqual([32, 32, 3]);
    expect(t.calls.filter((c) => c.name === 'settings:set')).toHaveLength(0); // restoring saves nothing

    vi.useFakeTimers();
    m.form.epochs = 90;
    m.form.latentDim = 24;
    await vi.advanceTimersByTimeAsync(DRAFT_SAVE_MS + 10);
    const saves = t.calls.filter((c) => c.name === 'settings:set');
    expect(saves).toHaveLength(1); // debounced
    expect(saves[0].payload).toMatchObject({ modelDraft: { dataset: 'icons-abc123', count: 404, form: { epochs: 90, latentDim: 24, hiddenText: '32, 64' } } });
    expect(Object.keys((saves[0].payload as { modelDraft: { form: object } }).modelDraft.form)).not.toContain('hidden');
  });

  it('without a draft starts from the newest run; lists runs newest first with their speed and previews from the host', async () => {
    const preview: RunPreview = { type: 'preview', epoch: 30, batch: 12, width: 28, height: 28, channels: 1, originals: [px(1)], noisy: [px(1)], reconstructions: [px(2)] };
    const t = host({
      'workspace:info': () => ({ ok: true, result: { ...WS, settings: { theme: 'system', maxConcurrentRuns: 2 } } }),
      'runs:list': () => ({ ok: true, result: [run('run-new', 300, { samplesPerSec: 2345.6, name: 'Icons, small code' }), run('run-mid', 200), run('run-old', 100)] }),
      'runs:preview': (p) => ({ ok: true, result: (p as { runId: string }).runId === 'run-new' ? preview : null }),
    });
    const m = useModelStore();
    await useWorkspaceStore().init();
    await flushPromises();
    expect(m.form.kind).toBe('conv-vae');
    expect(m.form.epochs).toBe(30);
    expect(m.source).toBe('icons-abc123');

    const w = mount(TrainView, { global: { plugins: [pinia], stubs: { LossChart: true, CompareChart: true } } });
    await flushPromises();
    const runs = useRunsStore();
    expect(runs.order).toEqual(['run-new', 'run-mid', 'run-old']);
    await runs.refresh(); // a second listing keeps the order
    expect(runs.order).toEqual(['run-new', 'run-mid', 'run-old']);
    expect(t.calls.filter((c) => c.name === 'runs:preview').map((c) => c.payload)).toEqual([{ runId: 'run-new' }]);
    await flushPromises();
    expect(w.find('[data-testid="run-stats"]').text()).toMatch(/30 of 30 epochs done.*2,346 samples\/s/);
    expect(w.findAll('[data-testid="preview-grid"] canvas')).toHaveLength(2); // original + reconstruction: no noise, no noisy row
    // names, models and datasets in plain words
    expect(w.find('[data-run="run-new"]').text()).toMatch(/Icons, small code.*Convolutional VAE, 16-d code.*Desktop icons \(404\)/);
    expect(w.find('[data-testid="run-open-gallery"]').exists()).toBe(true);
  });
});

describe('smaller bugs', () => {
  it('keeps the network summary when only a training field is invalid, and drops a stale speed table', async () => {
    host({ 'models:speed': () => ({ ok: true, result: { rates: [{ batchSize: 32, samplesPerSec: 3200 }], advice: null } }) });
    const w = mount(ModelView, { global: { plugins: [pinia] } });
    await flushPromises();
    await w.find('[data-testid="field-validationSplit"]').setValue('0.9');
    expect(w.find('[data-testid="error-validationSplit"]').exists()).toBe(true);
    expect(w.find('[data-testid="model-summary"]').exists()).toBe(true);
    await w.find('[data-testid="field-validationSplit"]').setValue('0.1');

    await w.find('[data-testid="measure-speed"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-testid="speed-table"]').exists()).toBe(true);
    await w.find('[data-testid="field-epochs"]').setValue('9'); // not the model: the table stays
    expect(w.find('[data-testid="speed-table"]').exists()).toBe(true);
    await w.find('[data-testid="field-latentDim"]').setValue('8');
    expect(w.find('[data-testid="speed-table"]').exists()).toBe(false);
  });

  it('shows a stopped run as the epochs it finished, without the batch it was in', async () => {
    host({ 'runs:list': () => ({ ok: true, result: [run('run-s', 1, { status: 'stopped', epochsDone: 3, config: runConfig({ kind: 'conv', latentDim: 16, epochs: 30 }) })] }) });
    const w = mount(TrainView, { global: { plugins: [pinia], stubs: { LossChart: true, CompareChart: true } } });
    await flushPromises();
    useRunsStore().apply('run-s', { type: 'batch', epoch: 4, batch: 1, batches: 12, loss: 0.1, samplesPerSec: 900, etaSec: 3 });
    await flushPromises();
    const stats = w.find('[data-testid="run-stats"]').text();
    expect(stats).toMatch(/3 of 30 epochs done/);
    expect(stats).not.toMatch(/batch|epoch 4/);
    expect(w.find('[data-testid="run-resume"]').text()).toBe('Resume after epoch 3');
  });

  it('rebuilds a chart when the theme changes, so its grid takes the new colours', async () => {
    let builds = 0;
    const Chart = defineComponent({
      setup() {
        const el = ref<HTMLDivElement>();
        useUplot(
          el,
          100,
          () => (builds++, { series: [{}, {}] }),
          () => [[1], [1]],
        );
        return () => h('div', { ref: el });
      },
    });
    const w = mount(Chart, { attachTo: document.body });
    const before = builds;
    const tick = themeTick.value;
    document.documentElement.dataset.theme = 'dark';
    await new Promise((r) => setTimeout(r, 0));
    await flushPromises();
    expect(themeTick.value).toBeGreaterThan(tick);
    expect(builds).toBeGreaterThan(before);
    delete document.documentElement.dataset.theme;
    w.unmount();
  });
});

describe('rough edges', () => {
  it('suggests epochs from the dataset size and uses them for a dataset just imported', async () => {
    host();
    const m = useModelStore();
    const ds = useDatasetsStore();
    await ds.refresh();
    m.chooseDataset('icons-abc123');
    m.applyPreset('conv');
    m.form.epochs = 5; // 404 images, batch 32: 12 steps an epoch, 60 in all
    expect(m.steps.total).toBe(60);
    expect(m.epochAdvice).toMatch(/60 training steps on 364 images will not give recognisable reconstructions: try 84 epochs/);
    const w = mount(ModelView, { global: { plugins: [pinia] } });
    await flushPromises();
    await w.find('[data-testid="use-suggested-epochs"]').trigger('click');
    expect(m.form.epochs).toBe(84);
    expect(w.find('[data-testid="epoch-advice"]').exists()).toBe(false);
    m.chooseDataset('builtin:mnist');
    m.count = 6000;
    m.form.epochs = 5;
    expect(m.epochAdvice).toBeUndefined(); // 6,000 digits: enough to learn from

    // an import finishing switches the Model view to the new dataset with suggested epochs
    const t = host({ 'datasets:import': () => ({ ok: true, result: { jobId: 'imp-1' } }) });
    ds.subscribe();
    ds.staged = { source: { paths: ['/x'] }, files: 404, suggestedName: 'icons' };
    await ds.startImport();
    t.emit('datasets:importDone', { jobId: 'imp-1', status: 'done', manifest: icons, report: { imported: 404, skipped: [], labelCounts: {} } });
    await flushPromises();
    expect(m.source).toBe('icons-abc123');
    expect(m.form.epochs).toBe(84);
  });

  it('names a conv VAE for what it is, and a form edited away from its preset "custom"', () => {
    host();
    const m = useModelStore();
    m.applyPreset('vae');
    expect(m.presetId).toBe('vae');
    m.setKind('conv-vae');
    expect(m.presetId).toBeUndefined();
    expect(modelTitle(m.config)).toBe('Convolutional VAE, 2-d code');
  });
});

describe('using an export', () => {
  it('shows the install line and the code for the export, with its file name and shapes', async () => {
    host({ 'runs:list': () => ({ ok: true, result: [run('run-e', 1, { config: runConfig({ kind: 'conv', latentDim: 16, inputShape: [32, 32, 3] }) })] }) });
    await useRunsStore().refresh();
    const record: ExportRecord = {
      exportId: 'exp-1',
      runId: 'run-e',
      kind: 'model',
      format: 'onnx',
      part: 'full',
      fileName: 'icons-full.onnx',
      bytes: 1,
      files: ['icons-full.onnx'],
      createdAt: 1,
      download: '/x',
    };
    const w = mount(ExportSnippet, { props: { record } });
    expect(w.text()).toMatch(/pip install onnxruntime numpy/);
    expect(w.find('pre').text()).toMatch(/ort\.InferenceSession\("icons-full\.onnx"\)[\s\S]*np\.zeros\(\(1, 32, 32, 3\)/);
    await w.setProps({ record: { ...record, format: 'tfjs', fileName: 'icons-full', part: 'encoder' } });
    expect(w.find('pre').text()).toMatch(/loadLayersModel\('file:\/\/' \+ path\.resolve\("icons-full", 'model\.json'\)\)[\s\S]*the code \[1, 16\]/);
    await w.setProps({ record: { ...record, kind: 'latents', format: 'csv' } });
    expect(w.find('[data-testid="export-snippet"]').exists()).toBe(false);
  });
});

describe('augmentation in the Noise view', () => {
  it('previews with the augmentation asked for and trains with it', async () => {
    const t = host({
      'noise:preview': () => ({ ok: true, result: { shape: [28, 28, 1], clean: [px(1)], noisy: [px(1)] } }),
      'runs:start': () => ({ ok: true, result: { runId: 'run-a' } }),
    });
    const NoiseView = (await import('../../../src-renderer/views/NoiseView.vue')).default;
    const w = mount(NoiseView, { global: { plugins: [pinia] } });
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'noise:preview')?.payload).not.toHaveProperty('augment');
    await w.find('[data-testid="augment-flip"]').setValue(true);
    await w.find('[data-testid="augment-rotate"]').setValue('15');
    await new Promise((r) => setTimeout(r, 400));
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'noise:preview').at(-1)?.payload).toMatchObject({ augment: { flip: true, shift: 0, rotate: 15, brightness: 0 } });
    expect(w.find('[data-row="clean"]').text()).toMatch(/Augmented/);
    await useModelStore().train();
    expect(t.calls.find((c) => c.name === 'runs:start')?.payload).toMatchObject({ config: { augment: { flip: true, rotate: 15 } } });
    w.unmount();
  });
});
