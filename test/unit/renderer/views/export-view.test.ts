// @vitest-environment happy-dom
// The Export view and the workspace store over the in-memory fake host at the transport boundary:
// which runs can be exported, what each button asks the host for, errors shown in place, the
// download link (serve) vs Save as (desktop), flagged items, opening another workspace (reloads
// runs and datasets), and the theme setting on <html>.
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { useBackendStore } from '../../../../src-renderer/stores/backend';
import ExportView from '../../../../src-renderer/views/ExportView.vue';
import { APP, FakeTransport, hostDecided, runConfig } from '../fake-host';
import type { ExportRecord } from '@contract';
import { run, info, record, workspaceHost as host } from '../workspace-host';

beforeEach(() => {
  setActivePinia(createPinia());
  delete document.documentElement.dataset.theme;
});

async function mountView(t: FakeTransport, mode: 'serve' | 'electron' = 'serve') {
  useBackendStore().appInfo = { ...APP, mode };
  const w = mount(ExportView);
  await flushPromises();
  return { w, t };
}

describe('Export view', () => {
  it('offers the manifold picture only for a run with a 2-D code', async () => {
    const runs = [
      hostDecided({ ...run('run-128', 'completed'), config: runConfig({ kind: 'conv', latentDim: 128 }) }),
      hostDecided({ ...run('run-2d', 'completed'), config: runConfig({ kind: 'vae', latentDim: 2 }) }),
    ];
    const { w } = await mountView(host({ 'runs:list': () => ({ ok: true, result: runs }) }));
    const views = () =>
      w
        .get('[data-testid="export-gallery-view"]')
        .findAll('option')
        .map((o) => o.attributes('value'));
    await w.get('[data-testid="export-run"]').setValue('run-128');
    expect(views()).toEqual(['triplets', 'samples', 'worst']);
    await w.get('[data-testid="export-run"]').setValue('run-2d');
    expect(views()).toEqual(['triplets', 'samples', 'worst', 'manifold']);
  });

  it('offers finished and imported runs only, exports with the chosen part and format, and shows a download link in serve mode', async () => {
    const { w, t } = await mountView(host());
    const options = w
      .get('[data-testid="export-run"]')
      .findAll('option')
      .map((o) => o.attributes('value'));
    expect(options.sort()).toEqual(['imported-x', 'run-done']);
    await w.get('[data-testid="export-run"]').setValue('run-done');
    await w.get('[data-testid="export-part-encoder"]').setValue(true);
    await w.get('[data-testid="export-format-onnx"]').setValue(true);
    await w.get('[data-testid="export-model"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'export:model')?.payload).toEqual({
      runId: 'run-done',
      format: 'onnx',
      part: 'encoder',
    });
    expect(w.get('[data-testid="export-done"]').text()).toMatch(/Wrote run-done-autoencoder\.onnx \(2 kB, 1 file\)/);
    expect(w.get('[data-testid="export-done"] a').attributes('href')).toBe('/exports/exp-1');
    expect(w.get('[data-testid="export-list"]').text()).toContain('run-done-autoencoder.onnx');
    // the workspace counts are asked for again after an export
    expect(t.calls.filter((c) => c.name === 'workspace:info').length).toBeGreaterThanOrEqual(2);
  });

  it('names runs by their name (or model and start time) in both pickers and the exports table, with the id kept as the value', async () => {
    const named = { ...run('run-done', 'completed'), name: 'Icons, first try' };
    const t = host({
      'runs:list': () => ({
        ok: true,
        result: [named, run('run-busy', 'running', 'dense'), run('imported-x', 'stopped', 'vae')],
      }),
      'export:list': () => ({ ok: true, result: [record('exp-1', 'onnx', 'run-done-autoencoder.onnx')] }),
    });
    const { w } = await mountView(t);
    const picker = (id: string) =>
      w
        .get(`[data-testid="${id}"]`)
        .findAll('option')
        .map((o) => [o.attributes('value'), o.text()]);
    expect(picker('export-run').sort()).toEqual([
      ['imported-x', expect.stringMatching(/^Imported variational \(VAE\), 128-d code · /)],
      ['run-done', 'Icons, first try'],
    ]);
    expect(picker('job-run').sort()).toEqual([
      ['imported-x', expect.stringMatching(/^Imported variational \(VAE\), 128-d code · .* · stopped$/)],
      ['run-busy', expect.stringMatching(/^Dense, 128-d code · .* · running$/)],
      ['run-done', 'Icons, first try · completed'],
    ]);
    for (const id of ['export-run', 'job-run'])
      expect(w.get(`[data-testid="${id}"]`).text()).not.toMatch(/run-done|run-busy|imported-x/);
    const row = w.get('[data-testid="export-list"] tbody tr');
    expect(row.findAll('td')[2].text()).toBe('Icons, first try');
    expect(row.findAll('td')[2].attributes('title')).toBe('run-done');
    await w.get('[data-testid="export-run"]').setValue('run-done');
    await w.get('[data-testid="export-model"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'export:model')?.payload).toMatchObject({ runId: 'run-done' });
  });

  it("shows the host's reason in place when a format cannot express a layer", async () => {
    const { w } = await mountView(host());
    await w.get('[data-testid="export-format-keras"]').setValue(true);
    await w.get('[data-testid="export-model"]').trigger('click');
    await flushPromises();
    expect(w.get('[data-testid="export-error"]').text()).toContain("Layer 'enc_bn' (BatchNormalization)");
    expect(w.find('[data-testid="export-done"]').exists()).toBe(false);
  });

  it('asks for latents and a gallery PNG of the chosen view', async () => {
    const t = host({
      'export:latents': () => ({
        ok: true,
        result: { ...record('exp-2', 'csv', 'run-done-latents.csv'), kind: 'latents', part: undefined },
      }),
      'export:gallery': () => ({
        ok: true,
        result: { ...record('exp-3', 'png', 'run-done-samples.png'), kind: 'gallery', part: undefined },
      }),
    });
    const { w } = await mountView(t);
    await w.get('[data-testid="export-run"]').setValue('run-done');
    await w.get('[data-testid="export-latents"]').trigger('click');
    await flushPromises();
    await w.get('[data-testid="export-gallery-view"]').setValue('samples');
    await w.get('[data-testid="export-gallery"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'export:latents')?.payload).toEqual({ runId: 'run-done' });
    expect(t.calls.find((c) => c.name === 'export:gallery')?.payload).toEqual({ runId: 'run-done', view: 'samples' });
    expect(w.get('[data-testid="export-list"]').findAll('tbody tr')).toHaveLength(2);
  });

  it('lists flagged items and opens another workspace by path, reloading runs and datasets', async () => {
    const t = host({
      'workspace:open': (p) => ({
        ok: true,
        result: { cancelled: false, info: info({ path: (p as { path: string }).path, runs: 0 }) },
      }),
    });
    const { w } = await mountView(t);
    expect(w.get('[data-testid="workspace-flagged"]').text()).toContain('notes.txt');
    const runsBefore = t.calls.filter((c) => c.name === 'runs:list').length;
    await w.get('[data-testid="workspace-open-path"]').setValue('/ws/b');
    await w.get('[data-testid="workspace-open"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'workspace:open')?.payload).toEqual({ path: '/ws/b' });
    expect(w.get('[data-testid="workspace-path"]').text()).toBe('/ws/b');
    expect(t.calls.filter((c) => c.name === 'runs:list').length).toBeGreaterThan(runsBefore);
    expect(t.calls.some((c) => c.name === 'datasets:list')).toBe(true);
  });

  it('shows a refused open in place and keeps the workspace', async () => {
    const t = host({
      'workspace:open': () => ({
        ok: false,
        error: {
          code: 'invalid_payload',
          message: 'A run is training in this workspace; stop it before opening another workspace.',
        },
      }),
    });
    const { w } = await mountView(t);
    await w.get('[data-testid="workspace-open-path"]').setValue('/ws/b');
    await w.get('[data-testid="workspace-open"]').trigger('click');
    await flushPromises();
    expect(w.get('[data-testid="workspace-error"]').text()).toMatch(/A run is training/);
    expect(w.get('[data-testid="workspace-path"]').text()).toBe('/ws/a');
  });

  it('desktop: Save as… and the folder dialogs instead of paths', async () => {
    const t = host({
      'workspace:info': () => ({ ok: true, result: info({ nativeDialogs: true }) }),
      'export:list': () => ({ ok: true, result: [record('exp-9', 'onnx', 'm.onnx')] }),
      'export:saveAs': () => ({ ok: true, result: { savedTo: '/home/me/m.onnx' } }),
    });
    const { w } = await mountView(t, 'electron');
    expect(w.find('[data-testid="workspace-open-path"]').exists()).toBe(false);
    expect(w.find('[data-testid="export-list"] a').exists()).toBe(false);
    await w.get('[data-testid="export-list"] button').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'export:saveAs')?.payload).toEqual({ exportId: 'exp-9' });
  });
});

describe('Export view: cluster jobs', () => {
  const jobRecord: ExportRecord = {
    exportId: 'exp-9',
    runId: 'run-done',
    kind: 'job',
    format: 'torch',
    fileName: 'run-done-torch-job',
    bytes: 3 * 2 ** 20,
    files: ['run-done-torch-job/train.py', 'run-done-torch-job/launch.sh'],
    createdAt: 3,
    download: '/exports/exp-9',
  };

  it('writes a job for any run, continuing from its checkpoint when it has one, and offers the .zip download', async () => {
    const t = host({ 'jobs:export': () => ({ ok: true, result: jobRecord }) });
    const { w } = await mountView(t);
    const options = w
      .get('[data-testid="job-run"]')
      .findAll('option')
      .map((o) => o.attributes('value'));
    expect(options.sort()).toEqual(['imported-x', 'run-busy', 'run-done']);
    // a running run cannot continue from its checkpoint
    await w.get('[data-testid="job-run"]').setValue('run-busy');
    expect((w.get('[data-testid="job-from-checkpoint"]').element as HTMLInputElement).disabled).toBe(true);
    await w.get('[data-testid="job-run"]').setValue('run-done');
    expect((w.get('[data-testid="job-from-checkpoint"]').element as HTMLInputElement).disabled).toBe(false);
    expect(w.get('[data-testid="cluster-job"]').text()).toMatch(/continue from its last checkpoint \(after epoch 1/);
    await w.get('[data-testid="job-export"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'jobs:export')?.payload).toEqual({ runId: 'run-done', fromCheckpoint: true });
    expect(w.get('[data-testid="job-done"]').text()).toMatch(/Wrote run-done-torch-job \(3\.0 MB, 2 files\)/);
    expect(w.get('[data-testid="job-done"] a').attributes('href')).toBe('/exports/exp-9');
    expect(w.get('[data-testid="job-done"]').text()).toContain('./launch.sh --workers N');
    expect(w.get('[data-testid="export-list"]').text()).toMatch(/cluster job \(PyTorch DDP\)[\s\S]*Download \(\.zip\)/);
  });

  it('imports a trained job by path and shows a refusal in place', async () => {
    let refuse = true;
    const t = host({
      'jobs:import': () =>
        refuse
          ? {
              ok: false,
              error: {
                code: 'invalid_payload',
                message: "out/checkpoint/model.safetensors does not fit the model: 'encoder.z_mean.weight' is missing",
              },
            }
          : { ok: true, result: { cancelled: false, runId: 'imported-job-1' } },
    });
    const { w } = await mountView(t);
    await w.get('[data-testid="import-job-path"]').setValue('/jobs/done');
    await w.get('[data-testid="import-job-go"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'jobs:import')?.payload).toEqual({ path: '/jobs/done' });
    expect(w.get('[data-testid="import-job-error"]').text()).toMatch(/does not fit the model/);
    refuse = false;
    await w.get('[data-testid="import-job-go"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-testid="import-job-error"]').exists()).toBe(false);
  });

  it('watches a job training elsewhere: its line while it trains, a refusal in place, Import it when done', async () => {
    let answer: 'training' | 'done' | 'bad' = 'training';
    const progress = (status: 'training' | 'done', epochsDone: number, line: string) => ({
      ok: true as const,
      result: {
        name: 'conv-digits',
        status,
        startEpoch: 0,
        epochsDone,
        targetEpoch: 4,
        loss: [0.2, 0.1].slice(0, epochsDone),
        valLoss: [],
        samplesPerSec: 480,
        workers: 2,
        etaSec: status === 'done' ? 0 : 12,
        message: null,
        line,
      },
    });
    const t = host({
      'jobs:progress': () =>
        answer === 'bad'
          ? {
              ok: false,
              error: { code: 'invalid_payload', message: '/jobs/nope has no job.json: it is not a cluster job folder' },
            }
          : answer === 'training'
            ? progress('training', 1, 'epoch 1/4, loss 0.20000, 480 samples/s on 2 workers, ETA 12 s')
            : progress('done', 4, 'epoch 4/4, loss 0.10000, finished'),
      'jobs:import': () => ({ ok: true, result: { cancelled: false, runId: 'imported-job-2' } }),
    });
    const { w } = await mountView(t);
    expect((w.get('[data-testid="watch-job-go"]').element as HTMLButtonElement).disabled).toBe(true);
    await w.get('[data-testid="watch-job-path"]').setValue('/jobs/live');
    await w.get('[data-testid="watch-job-go"]').trigger('click');
    await flushPromises();
    expect(t.calls.find((c) => c.name === 'jobs:progress')?.payload).toEqual({ path: '/jobs/live' });
    expect(w.get('[data-testid="watch-job-line"]').text()).toBe(
      'conv-digits — epoch 1/4, loss 0.20000, 480 samples/s on 2 workers, ETA 12 s',
    );
    expect(w.find('[data-testid="watch-job-import"]').exists()).toBe(false);
    answer = 'done';
    await w.get('[data-testid="watch-job-go"]').trigger('click');
    await flushPromises();
    expect(w.get('[data-testid="watch-job-line"]').text()).toMatch(/epoch 4\/4, loss 0\.10000, finished/);
    await w.get('[data-testid="watch-job-import"]').trigger('click');
    await flushPromises();
    expect(t.calls.filter((c) => c.name === 'jobs:import').map((c) => c.payload)).toEqual([{ path: '/jobs/live' }]);
    answer = 'bad';
    await w.get('[data-testid="watch-job-path"]').setValue('/jobs/nope');
    await w.get('[data-testid="watch-job-go"]').trigger('click');
    await flushPromises();
    expect(w.get('[data-testid="watch-job-error"]').text()).toMatch(/has no job\.json/);
    w.unmount();
  });
});
