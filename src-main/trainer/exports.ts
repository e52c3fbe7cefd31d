// Exports inside the trainer process: the engine writes the model files, the latents
// CSV and the PNG grids (tfjs-node and sharp live here, never in the host); importing a
// TensorFlow.js export turns it into a run folder.
import { loadTrained, type TrainedModel } from '../engine';
import { exportModel, importTfjsExportAsRun, writeImageGridPng, writeLatentsCsv } from '../formats';
import { listDatasets } from '../datasets/store';
import { fromBase64 } from '../datasets/base64';
import { galleryOp, forgetModel } from './gallery';
import { atModelSize, openRunDataset } from './runs';
import type { MethodParams, MethodResult } from './protocol';

type Shape = [number, number, number];

/** The rows of a Gallery view as images for a PNG grid (one row per kind of image). */
async function galleryRows(
  p: MethodParams<'exportRun'>,
): Promise<{ images: Uint8Array[]; shape: Shape; cols: number }> {
  const view = p.view ?? 'triplets';
  const count = p.count ?? 16;
  const params: Record<string, number> =
    view === 'manifold'
      ? { grid: Math.max(2, Math.min(20, Math.round(Math.sqrt(count)))) }
      : { count, seed: p.seed ?? 1 };
  const r = await galleryOp({ op: view, runDir: p.runDir, workspaceDir: p.workspaceDir, dataset: p.dataset!, params });
  const dec = (images: string[]) => images.map(fromBase64);
  if (r.op === 'triplets') {
    const o = dec(r.originals);
    return { images: [...o, ...dec(r.noisy), ...dec(r.reconstructions)], shape: r.shape, cols: o.length };
  }
  if (r.op === 'worst') {
    const o = dec(r.originals);
    return { images: [...o, ...dec(r.reconstructions)], shape: r.shape, cols: o.length };
  }
  if (r.op !== 'samples' && r.op !== 'manifold')
    throw new Error(`A '${view}' view cannot be exported as an image grid.`);
  const images = dec(r.images);
  return { images, shape: r.shape, cols: Math.ceil(Math.sqrt(images.length)) };
}

export async function exportRun(p: MethodParams<'exportRun'>): Promise<MethodResult<'exportRun'>> {
  if (p.op === 'gallery') {
    const { images, shape, cols } = await galleryRows(p);
    return writeImageGridPng(images, shape, cols, p.out);
  }
  const trained: TrainedModel = await loadTrained(p.runDir);
  try {
    if (p.op === 'model')
      return await exportModel(trained, {
        format: p.format ?? 'tfjs',
        part: p.part ?? 'full',
        out: p.out,
        runDir: p.runDir,
      });
    // A big stored dataset stays in its file: the codes are written a batch at a time as its rows are read.
    const ds = atModelSize(openRunDataset(p.dataset!, p.workspaceDir), trained.config);
    try {
      return await writeLatentsCsv(trained, ds, p.out);
    } finally {
      ds.close();
    }
  } finally {
    trained.dispose();
  }
}

export async function importModel(p: MethodParams<'importModel'>): Promise<MethodResult<'importModel'>> {
  forgetModel(p.runDir);
  const trained = await importTfjsExportAsRun(p.src, p.runDir);
  try {
    const shape = trained.config.inputShape;
    // The run needs images of its shape for the Gallery and for training further.
    let dataset: MethodResult<'importModel'>['dataset'];
    if (shape.join('×') === '28×28×1') dataset = { builtin: 'mnist', count: 10_000 };
    else {
      const match = listDatasets(p.workspaceDir).find((d) => 'shape' in d && d.shape.join('×') === shape.join('×'));
      if (!match)
        throw new Error(
          `This model takes ${shape.join('×')} images and the workspace has no dataset of that shape; import one in the Datasets view first.`,
        );
      dataset = { id: match.id };
    }
    return { config: trained.config, dataset, epochsDone: 0, history: { loss: [], valLoss: [] } };
  } finally {
    trained.dispose();
  }
}
