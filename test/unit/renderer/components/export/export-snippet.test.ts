// @vitest-environment happy-dom
// The code to use an export (components/export/ExportSnippet.vue): install line, file name and shapes per format.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { useRunsStore } from '../../../../../src-renderer/stores/runs';
import ExportSnippet from '../../../../../src-renderer/components/export/ExportSnippet.vue';
import type { ExportRecord } from '@contract';
import { freshPinia, iconsHost, iconsRun } from '../../icons-host';
import { runConfig } from '../../fake-host';

freshPinia();

describe('using an export', () => {
  it('shows the install line and the code for the export, with its file name and shapes', async () => {
    iconsHost({
      'runs:list': () => ({
        ok: true,
        result: [iconsRun('run-e', 1, { config: runConfig({ kind: 'conv', latentDim: 16, inputShape: [32, 32, 3] }) })],
      }),
    });
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
    expect(w.find('pre').text()).toMatch(
      /ort\.InferenceSession\("icons-full\.onnx"\)[\s\S]*np\.zeros\(\(1, 32, 32, 3\)/,
    );
    await w.setProps({ record: { ...record, format: 'tfjs', fileName: 'icons-full', part: 'encoder' } });
    expect(w.find('pre').text()).toMatch(
      /loadLayersModel\('file:\/\/' \+ path\.resolve\("icons-full", 'model\.json'\)\)[\s\S]*the code \[1, 16\]/,
    );
    await w.setProps({ record: { ...record, kind: 'latents', format: 'csv' } });
    expect(w.find('[data-testid="export-snippet"]').exists()).toBe(false);
  });
});
