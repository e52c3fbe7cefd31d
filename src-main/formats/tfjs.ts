// TensorFlow.js layers format: model.json + weights.bin (tf.loadLayersModel loads it in Node and in
// the browser), plus studio.json (format tag, part, the run's ModelConfig and latent statistics) so
// that an export of the whole autoencoder can be imported back as a run. The "full" export is the
// composition of the two halves (models.ts fullModel), whose model.json keeps the encoder and the
// decoder as nested models: import takes them out again. A decoder export of a run with a chosen
// sampler also carries the sampler (studio.json) and sample.js (sampler-snippet.ts).
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../engine/tf';
import { SAMPLE_JS } from './sampler-snippet';
import type { io } from '@tensorflow/tfjs-core';
import { validateConfig, type ModelConfig } from '../engine/config';
import { buildAutoencoder, fullModel, type Autoencoder } from '../engine/models';
import { saveAutoencoder } from '../engine/persist';
import { writeDirAtomic, writeJsonAtomic } from '../fs-safety/atomic';
import type { LatentStats } from '../engine/latent-stats';
import { TrainedModel } from '../engine/trained-model';
import type { InspectionFile } from '../engine/inspect/calibration';
import { ImportError, type ExportPart } from './errors';
import { writeFolderAtomic, type ExportResult } from './output';
import { jobPlan } from '../engine/layer-plan';
import { fileInside, readJsonCapped } from '../fs-safety/safe-read';
import { checkLatentStats, checkTopology, hasNestedModel, readModelJson, readTfjsWeights } from './tfjs-read';

export const STUDIO_TFJS_FORMAT = 'autoencoder-studio/tfjs-export';

/** studio.json, written next to model.json in every TensorFlow.js export. */
export interface StudioExportInfo {
  format: typeof STUDIO_TFJS_FORMAT;
  version: 1;
  part: ExportPart;
  config: ModelConfig;
  latentStats: LatentStats;
  /** Input and output names/shapes of the exported model, batch dimension left out. */
  inputShape: number[];
  outputShapes: number[][];
  exportedAt: string;
  /**
   * The sampler the run chose (its name and fitted parameters: docs/generation.md), in decoder and
   * full exports of a run that has one; a decoder export then also holds sample.js, which draws
   * new images with it.
   */
  sampler?: { name: string } & Record<string, unknown>;
  /** An inspection run's settings (docs/inspection.md): map, score, per-pixel normalisation, threshold, measured AUCs. */
  inspection?: ExportedInspection;
}

/** What an export carries of a run's inspection settings (engine/inspect/calibration.ts). */
export type ExportedInspection = Pick<InspectionFile, 'settings' | 'threshold' | 'norm' | 'measured' | 'run'>;

/** The inspection settings an export carries, or undefined for a model without them. */
export function exportedInspection(trained: TrainedModel): ExportedInspection | undefined {
  const f = trained.inspection;
  if (!f) return undefined;
  return {
    run: f.run,
    settings: f.settings,
    threshold: f.threshold,
    norm: f.norm,
    ...(f.measured ? { measured: f.measured } : {}),
  };
}

/** A fresh, independent copy of a layers model (same topology and weights), through memory. */
export async function cloneModel(m: tf.LayersModel): Promise<tf.LayersModel> {
  let artifacts: io.ModelArtifacts | undefined;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tf.loadLayersModel(tf.io.fromMemory(artifacts!));
}

const isStudioExport = (dir: string) =>
  fs.existsSync(path.join(dir, 'studio.json')) && fs.existsSync(path.join(dir, 'model.json'));

export async function exportTfjs(
  trained: TrainedModel,
  part: ExportPart,
  out: string,
  sampler?: StudioExportInfo['sampler'],
): Promise<ExportResult> {
  return writeFolderAtomic(
    out,
    async (tmp) => {
      let model: tf.LayersModel;
      let dispose = false;
      if (part === 'encoder') model = trained.ae.encoder;
      else if (part === 'decoder') model = trained.ae.decoder;
      else {
        // A nested model is owned by the composition: compose fresh copies, never the live halves.
        const encoder = await cloneModel(trained.ae.encoder);
        let decoder: tf.LayersModel;
        try {
          decoder = await cloneModel(trained.ae.decoder);
        } catch (err) {
          encoder.dispose();
          throw err;
        }
        model = fullModel({ encoder, decoder });
        dispose = true;
      }
      try {
        await model.save(`file://${tmp}`);
        const info: StudioExportInfo = {
          format: STUDIO_TFJS_FORMAT,
          version: 1,
          part,
          config: trained.config,
          latentStats: trained.latentStats,
          inputShape: model.inputs[0].shape.slice(1) as number[],
          outputShapes: model.outputs.map((o) => o.shape.slice(1) as number[]),
          exportedAt: new Date().toISOString(),
          ...(sampler && part !== 'encoder' ? { sampler } : {}),
          ...(exportedInspection(trained) ? { inspection: exportedInspection(trained) } : {}),
        };
        fs.writeFileSync(path.join(tmp, 'studio.json'), JSON.stringify(info, null, 2));
        if (sampler && part === 'decoder') fs.writeFileSync(path.join(tmp, 'sample.js'), SAMPLE_JS);
      } finally {
        if (dispose) model.dispose();
      }
    },
    isStudioExport,
  );
}

export interface ImportedModel {
  /** Fresh encoder and decoder (the caller owns and disposes them, e.g. through TrainedModel). */
  ae: Autoencoder;
  config: ModelConfig;
  latentStats: LatentStats;
  info: StudioExportInfo;
}

/** Reads studio.json of an export folder; a clear ImportError when it is not a studio TensorFlow.js export. */
export function readStudioInfo(dir: string): StudioExportInfo {
  if (!fs.existsSync(path.join(dir, 'model.json')))
    throw new ImportError(`${dir} holds no model.json: it is not a TensorFlow.js export.`);
  if (!fs.existsSync(path.join(dir, 'studio.json'))) {
    throw new ImportError(
      `${dir} is a TensorFlow.js model but not an Autoencoder Studio export (no studio.json), so its configuration is unknown; only models exported from the studio can be imported.`,
    );
  }
  const fail = (m: string) => new ImportError(m);
  const info = readJsonCapped(
    fileInside(dir, 'studio.json', 'studio.json', fail),
    4 * 2 ** 20,
    `studio.json in ${dir}`,
    fail,
  ) as StudioExportInfo;
  if (!info || typeof info !== 'object' || info.format !== STUDIO_TFJS_FORMAT || info.version !== 1) {
    throw new ImportError(
      `studio.json in ${dir} is not a studio export description (format ${String(info?.format)}, version ${String(info?.version)}).`,
    );
  }
  return info;
}

/**
 * Turns a studio TensorFlow.js export of the FULL autoencoder back into a fresh encoder + decoder
 * with the run's config and latent statistics. An export of only the encoder or the decoder, or a
 * plain TensorFlow.js folder, is an ImportError saying so. The folder is hostile input
 * (tfjs-read.ts): the weights are checked against the config's model before they are read, and
 * the model is built from the config, never from model.json's topology.
 */
export async function importTfjsExport(dir: string): Promise<ImportedModel> {
  const info = readStudioInfo(dir);
  if (info.part !== 'full') {
    throw new ImportError(
      `This export holds only the ${info.part}; export the full autoencoder ("--part full") to import it into the studio.`,
    );
  }
  const checked = validateConfig(info.config);
  if (!checked.ok)
    throw new ImportError(
      `The configuration in studio.json is not valid: ${checked.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  const config = checked.config;
  let plan;
  try {
    plan = jobPlan(config);
  } catch (err) {
    throw new ImportError(`The configuration in studio.json cannot be built: ${(err as Error).message}.`);
  }
  const latentStats = checkLatentStats(info.latentStats, config);
  const modelJson = readModelJson(dir);
  for (const name of ['encoder', 'decoder']) {
    if (!hasNestedModel(modelJson, name))
      throw new ImportError(
        `model.json in ${dir} has no nested '${name}' model; it was not exported by the studio as a full autoencoder.`,
      );
  }
  checkTopology(dir, modelJson, plan);
  const weights = readTfjsWeights(dir, modelJson, plan);
  const ae = buildAutoencoder(config);
  try {
    for (const v of [...ae.encoder.trainableWeights, ...ae.decoder.trainableWeights]) {
      const name = v.originalName ?? v.name;
      const values = weights.get(name);
      if (!values) throw new ImportError(`The studio's model has a weight ${name} that model.json does not hold.`);
      const t = tf.tensor(values, v.shape as number[]);
      v.write(t);
      t.dispose();
    }
  } catch (err) {
    ae.encoder.dispose();
    ae.decoder.dispose();
    throw err;
  }
  return { ae, config, latentStats, info };
}

/**
 * Imports a full-autoencoder export into `runDir` in the engine's run layout: config.json, model/
 * (what loadTrained reads: inspect it in the gallery) and checkpoint/ (the weights with a fresh
 * optimizer, epoch 0), so `trainRun({ config, dataset, runDir, resume: true })` keeps training it.
 * Returns the loaded model (the caller disposes it).
 */
export async function importTfjsExportAsRun(dir: string, runDir: string): Promise<TrainedModel> {
  const imported = await importTfjsExport(dir);
  const trained = new TrainedModel(imported.ae, imported.config, imported.latentStats);
  try {
    fs.mkdirSync(runDir, { recursive: true });
    writeJsonAtomic(path.join(runDir, 'config.json'), imported.config);
    await trained.save(path.join(runDir, 'model'));
    await writeDirAtomic(path.join(runDir, 'checkpoint'), async (tmp) => {
      await saveAutoencoder(imported.ae, tmp);
      fs.writeFileSync(path.join(tmp, 'optimizer.json'), JSON.stringify({ specs: [] }));
      fs.writeFileSync(path.join(tmp, 'optimizer.bin'), Buffer.alloc(0));
      fs.writeFileSync(
        path.join(tmp, 'state.json'),
        JSON.stringify({ epochsDone: 0, history: { loss: [], valLoss: [] }, bestValLoss: null, sinceBest: 0, step: 0 }),
      );
    });
  } catch (err) {
    trained.dispose();
    throw err;
  }
  return trained;
}
