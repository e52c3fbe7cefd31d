// Export of trained models, plain TypeScript on tfjs-node, no Electron:
//
//   exportModel(model, { format, part, out })  TensorFlow.js folder | Keras 3 .keras | ONNX .onnx
//   writeLatentsCsv(trained, dataset, out)      codes of a dataset as CSV (label,z0,z1,…)
//   writeImageGridPng(images, shape, cols, out) any gallery as one PNG grid
//   importTfjsExport(dir) / importTfjsExportAsRun(dir, runDir)
//                                               a studio TF.js export of the full autoencoder back
//                                               into encoder + decoder + config (+ a run folder)
//
// `part`: 'encoder' (image → code; a VAE's encoder gives [z_mean, z_log_var]), 'decoder'
// (code → image) or 'full' (image → reconstruction through the code, a VAE's mean). Every output
// is written atomically: a temporary beside `out`, renamed into place; nothing partial is left at
// `out` when an export fails. What a format cannot express is an ExportError naming the layer.
import fs from 'node:fs';
import path from 'node:path';
import { loadTrained, TrainedModel } from '../engine/trained-model';
import { partGraph } from './graph';
import { ExportError, EXPORT_FORMATS, EXPORT_PARTS, FORMAT_TITLES, type ExportFormat, type ExportPart } from './errors';
import { exportTfjs, exportedInspection } from './tfjs';
import { exportKeras } from './keras';
import { exportOnnx } from './onnx';
import type { ExportResult } from './output';

export {
  ExportError,
  ImportError,
  EXPORT_FORMATS,
  EXPORT_PARTS,
  FORMAT_TITLES,
  type ExportFormat,
  type ExportPart,
} from './errors';
export type { ExportResult } from './output';
export { writeLatentsCsv, type LatentsCsvOptions } from './latents';
export { writeImageGridPng, composeGrid, type GridImages, type ImageGridOptions } from './image-grid';
export {
  importTfjsExport,
  importTfjsExportAsRun,
  readStudioInfo,
  cloneModel,
  STUDIO_TFJS_FORMAT,
  type ImportedModel,
  type StudioExportInfo,
} from './tfjs';
export { partGraph, predictPart, SUPPORTED_LAYERS, SUPPORTED_ACTIVATIONS, type Graph, type GraphNode } from './graph';
export { ONNX_OPSET, onnxMetadata } from './onnx';
export { KERAS_LAYOUT_VERSION } from './keras';

export interface ExportOptions {
  format: ExportFormat;
  part: ExportPart;
  /** tfjs: a folder (created; an earlier TF.js export there is replaced); keras: a .keras file; onnx: a .onnx file. */
  out: string;
  /**
   * The run folder, when `model` is a loaded TrainedModel: its chosen sampler
   * (generation/sampler.json) goes into an export of the decoder or the whole autoencoder (TF.js:
   * studio.json and sample.js; Keras: metadata.json; ONNX: metadata_props). Read from `model`
   * itself when that is a folder.
   */
  runDir?: string;
}

/** The sampler a run chose (generation/sampler.json: its name and fitted parameters), if any. */
function chosenSampler(runDir: string | undefined): ({ name: string } & Record<string, unknown>) | undefined {
  if (!runDir) return undefined;
  try {
    const j = JSON.parse(fs.readFileSync(path.join(runDir, 'generation', 'sampler.json'), 'utf8')) as {
      name?: unknown;
      sampler?: Record<string, unknown>;
    };
    return typeof j.name === 'string' && j.sampler && typeof j.sampler === 'object'
      ? { name: j.name, ...j.sampler }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The file name an export of this kind usually gets (for save dialogs and defaults). */
export function defaultExportName(format: ExportFormat, part: ExportPart): string {
  const base = part === 'full' ? 'autoencoder' : part;
  return format === 'tfjs' ? `${base}-tfjs` : format === 'keras' ? `${base}.keras` : `${base}.onnx`;
}

/**
 * Exports the encoder, the decoder or the whole autoencoder of a trained model (a TrainedModel,
 * or a run folder / saved model folder that loadTrained reads). Resolves with the files written.
 */
export async function exportModel(model: TrainedModel | string, opts: ExportOptions): Promise<ExportResult> {
  if (!EXPORT_FORMATS.includes(opts.format))
    throw new ExportError(
      `Unknown export format '${String(opts.format)}'; choose one of ${EXPORT_FORMATS.join(', ')}.`,
    );
  if (!EXPORT_PARTS.includes(opts.part))
    throw new ExportError(`Unknown part '${String(opts.part)}'; choose one of ${EXPORT_PARTS.join(', ')}.`);
  if (opts.format === 'keras' && !opts.out.endsWith('.keras')) {
    throw new ExportError(`Keras 3 only loads archives named *.keras; '${opts.out}' does not end in .keras.`, {
      format: 'keras',
      part: opts.part,
    });
  }
  const trained = typeof model === 'string' ? await loadTrained(model) : model;
  try {
    const sampler = chosenSampler(opts.runDir ?? (typeof model === 'string' ? model : undefined));
    if (opts.format === 'tfjs') return await exportTfjs(trained, opts.part, opts.out, sampler);
    // Described (and checked: an ExportError names a layer the format cannot hold) before anything is written.
    const graph = partGraph(trained.ae, opts.part, opts.format);
    // the decoder (alone or in the whole autoencoder) carries the run's chosen sampler in its metadata
    const withSampler = opts.part === 'encoder' ? undefined : sampler;
    if (opts.format === 'keras') return await exportKeras(graph, opts.out, exportedInspection(trained), withSampler);
    // the whole autoencoder of an inspection run computes its anomaly map and score in the graph
    const inspection = opts.part === 'full' && !trained.vae ? exportedInspection(trained) : undefined;
    const written = await exportOnnx(graph, opts.out, inspection, withSampler);
    return inspection ? { ...written, inspector: true } : written;
  } catch (err) {
    if (err instanceof ExportError && !err.details.part) {
      throw new ExportError(
        err.message.replace(/^ONNX export/, `${FORMAT_TITLES[opts.format]} export of the ${opts.part}`),
        { ...err.details, part: opts.part },
      );
    }
    throw err;
  } finally {
    if (typeof model === 'string') trained.dispose();
  }
}
