// Cluster jobs against a workspace, for the trainer process and the CLI alike:
// exporting a run (or a config + dataset) as a job folder, and importing a trained job folder as a
// run folder, with the images it trained on made available in the workspace when they are not
// there yet. The cluster layer (src-main/cluster) does the model work; this file knows the workspace.
import fs from 'node:fs';
import path from 'node:path';
import type { ModelConfig, RunSummary } from '../contract';
import type { MethodResult } from './protocol';
import { exportJob, type ExportJobResult } from '../cluster/export';
import { importJobAsRun, JobImportError } from '../cluster/import';
import type { JobJson } from '../cluster/format';
import { removeIfEmpty } from '../fs-safety/atomic';
import { BUILTIN_NAMES, makeBuiltin, type BuiltinName } from '../datasets/builtins';
import {
  describeStoredDatasets,
  findDatasetId,
  listDatasets,
  loadDataset,
  readDatasetManifest,
  writeDataset,
} from '../datasets/store';
import { loadRunDataset } from './runs';

type RunDataset = RunSummary['dataset'];

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export interface JobExportParams {
  workspaceDir: string;
  out: string;
  /** A run of the workspace: its folder (for --from-checkpoint), config and dataset. */
  run?: { runId: string; runDir: string; config: ModelConfig; dataset: RunDataset };
  /** Or a config file's config (unchecked: exportJob validates it) with a dataset by name: a built-in (mnist, fashion-mnist, shapes) or a stored dataset id. */
  config?: Record<string, unknown>;
  datasetName?: string;
  fromCheckpoint?: boolean;
}

/** Writes a job folder for a run of the workspace, or for a config and a named dataset. */
export async function exportJobFromWorkspace(p: JobExportParams): Promise<ExportJobResult> {
  const common = { out: p.out };
  if (p.run) {
    const spec = p.run.dataset;
    const dataset = loadRunDataset(spec, p.workspaceDir);
    const manifest = 'id' in spec ? readDatasetManifest(p.workspaceDir, spec.id) : undefined;
    return exportJob({
      ...common,
      config: p.run.config,
      dataset,
      labelNames: manifest?.labelNames ?? DIGITS,
      datasetSpec:
        'builtin' in spec
          ? { builtin: 'mnist', count: dataset.count }
          : { id: spec.id, ...(spec.count ? { count: spec.count } : {}) },
      datasetName: manifest?.name ?? 'MNIST digits',
      name: p.run.runId,
      runId: p.run.runId,
      checkpointDir: p.fromCheckpoint ? path.join(p.run.runDir, 'checkpoint') : undefined,
    });
  }
  const name = p.datasetName ?? '';
  const c = p.config ?? {};
  const kind = typeof c.kind === 'string' ? c.kind : 'dense';
  /** A config file may leave the image shape out, as for `ae-studio train`: the dataset gives it. */
  const withShape = (shape: [number, number, number]) => (c.inputShape === undefined ? { ...c, inputShape: shape } : c);
  if ((BUILTIN_NAMES as readonly string[]).includes(name)) {
    const raw = makeBuiltin(name as BuiltinName);
    return exportJob({
      ...common,
      config: withShape(raw.shape),
      dataset: raw,
      labelNames: raw.labelNames,
      datasetSpec: name === 'mnist' ? { builtin: 'mnist', count: raw.count } : null,
      datasetName: name,
      name: `${kind}-${name}`,
    });
  }
  const id = findDatasetId(p.workspaceDir, name);
  if (!id)
    throw new Error(
      `There is no dataset '${name}' in ${p.workspaceDir}; use ${BUILTIN_NAMES.join(', ')} or one of: ${describeStoredDatasets(p.workspaceDir)}.`,
    );
  const d = loadDataset(p.workspaceDir, id);
  return exportJob({
    ...common,
    config: withShape(d.shape),
    dataset: d,
    labelNames: d.manifest.labelNames,
    datasetSpec: { id },
    datasetName: d.manifest.name,
    name: `${kind}-${id}`,
  });
}

/** What an imported job becomes: the run's config, dataset, history and status, and how it trained on the cluster. */
export type JobImportResult = MethodResult<'importJob'>;

/** The run's dataset in this workspace: the one it came from when it is here, else the job's images stored as a new dataset. */
async function runDatasetFor(
  ws: string,
  job: JobJson,
  config: ModelConfig,
  data: Awaited<ReturnType<typeof importJobAsRun>>['dataset'],
  src: string,
): Promise<{ spec: RunDataset; added?: string }> {
  const spec = job.source.dataset;
  const shape = data.shape.join('×');
  if (spec && 'builtin' in spec && shape === '28×28×1' && spec.count >= 100 && spec.count <= 10_000)
    return { spec: { builtin: 'mnist', count: spec.count } };
  if (spec && 'id' in spec) {
    const m = listDatasets(ws).find((d) => d.id === spec.id);
    if (m && 'shape' in m && m.shape.join('×') === shape && m.count >= data.count)
      return { spec: { id: spec.id, count: data.count } };
  }
  const m = await writeDataset(
    ws,
    `${job.source.datasetName || 'images'} (cluster job)`,
    { images: data.images, labels: data.labels, labelNames: data.labelNames, shape: data.shape, count: data.count },
    { kind: 'import', paths: [src] },
    { options: { validationSplit: config.validationSplit, seed: config.seed } },
  );
  return { spec: { id: m.id }, added: m.id };
}

/**
 * Imports a trained job folder into `runDir` of the workspace (the caller removes runDir when this
 * throws; nothing else is written before every check has passed).
 */
export async function importJobIntoWorkspace(p: {
  src: string;
  runDir: string;
  workspaceDir: string;
}): Promise<JobImportResult> {
  // importJobAsRun checks everything (readJob) before it creates runDir; the dataset comes last
  const r = await importJobAsRun(p.src, p.runDir);
  const ds = await runDatasetFor(p.workspaceDir, r.job, r.config, r.dataset, path.resolve(p.src));
  return {
    config: r.config,
    dataset: ds.spec,
    epochsDone: r.epochsDone,
    history: r.history,
    status: r.status,
    message: r.message,
    addedDataset: ds.added,
    ...(r.metrics ? { metrics: r.metrics } : {}),
    cluster: {
      from: path.resolve(p.src),
      name: r.job.name,
      startEpoch: r.job.startEpoch,
      epochs: r.epochs.map((e) => ({
        epoch: e.epoch,
        samplesPerSec: e.samples_per_sec,
        worldSize: e.world_size,
        seconds: e.seconds,
        restart: e.restart,
      })),
      importedAt: Date.now(),
    },
  };
}

export { JobImportError };

/** Removes what a failed import may have left: the run folder (and a dataset it added). */
export function cleanupFailedImport(runDir: string, datasetDir?: string): void {
  fs.rmSync(runDir, { recursive: true, force: true });
  removeIfEmpty(path.dirname(runDir)); // nor the runs/ folder the import's lock needed
  if (datasetDir) fs.rmSync(datasetDir, { recursive: true, force: true });
}
