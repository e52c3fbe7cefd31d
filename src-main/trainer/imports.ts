// Import jobs inside the trainer process: decoding thousands of images never runs in the host.
// Progress is throttled; a cancelled or failed import writes nothing.
import { ImportCancelled, importPaths } from '../datasets/import';
import { appendToDataset, readDatasetManifest, writeDataset } from '../datasets/store';
import type { MethodParams, SendTrainerEvent } from './protocol';
import { imagesToBase64 } from '../datasets/base64';

type Send = SendTrainerEvent;
const jobs = new Map<string, AbortController>();

export function startImport(p: MethodParams<'datasetImport'>, send: Send): void {
  const ctrl = new AbortController();
  jobs.set(p.jobId, ctrl);
  void (async () => {
    try {
      // adding to a dataset: its images' size, colour, fit and background
      let options = p.options;
      if (p.into) {
        const m = readDatasetManifest(p.workspaceDir, p.into);
        const o = m.options;
        options = {
          ...options,
          size: m.shape[0],
          mode: m.shape[2] === 3 ? 'rgb' : 'grayscale',
          fit: o?.fit === 'crop' || o?.fit === 'pad' ? o.fit : 'stretch',
          background: o?.background === 'white' ? 'white' : 'black',
        };
        if (m.shape[0] !== m.shape[1] || (m.shape[2] !== 1 && m.shape[2] !== 3))
          throw new Error(`images cannot be added to a ${m.shape.join('×')} dataset`);
      }
      const { dataset, report } = await importPaths(p.paths, {
        ...options,
        signal: ctrl.signal,
        onProgress: (pr) => send('import-progress', { jobId: p.jobId, ...pr }),
      });
      if (ctrl.signal.aborted) throw new ImportCancelled();
      if (report.imported === 0) {
        send('import-done', {
          jobId: p.jobId,
          status: 'failed',
          report,
          message: `Nothing could be imported: all ${report.skipped.length} files were skipped (see the report).`,
        });
        return;
      }
      const manifest = p.into
        ? await appendToDataset(p.workspaceDir, p.into, dataset, report)
        : await writeDataset(
            p.workspaceDir,
            p.name,
            dataset,
            { kind: 'import', paths: p.paths },
            { options: p.options, report },
          );
      send('import-done', { jobId: p.jobId, status: 'done', manifest, report });
    } catch (err) {
      if (err instanceof ImportCancelled)
        send('import-done', { jobId: p.jobId, status: 'cancelled', message: err.message });
      else
        send('import-done', {
          jobId: p.jobId,
          status: 'failed',
          message: `The import failed: ${(err as Error).message}. Nothing was written.`,
        });
    } finally {
      jobs.delete(p.jobId);
    }
  })();
}

export function cancelImport(jobId: string): boolean {
  const ctrl = jobs.get(jobId);
  ctrl?.abort();
  return !!ctrl;
}

/** The live preview before an import: the first few images converted with the chosen options. */
export async function previewImport(p: MethodParams<'datasetPreviewImport'>) {
  const { dataset, report } = await importPaths(p.paths, { ...p.options, limit: p.limit });
  const per = dataset.shape[0] * dataset.shape[1] * dataset.shape[2];
  return {
    images: imagesToBase64(dataset.images, per),
    labels: Array.from(dataset.labels, (l) => dataset.labelNames[l]),
    shape: dataset.shape,
    skipped: report.skipped.length,
  };
}
