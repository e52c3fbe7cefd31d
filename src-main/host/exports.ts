// Host side of `export:*` and `models:import`. Every export is written by the trainer
// process (it owns tfjs-node and sharp) into <workspace>/exports/<exportId>/, with export.json
// describing it; the desktop app then copies it where the user picks (native save dialog), serve
// mode downloads it (server.ts streams it, a folder as a zip). Nothing is listed until it is
// complete: a failed export leaves no folder behind.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { ExportRecord, exportFileBase, type RunSummary } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';
import type { MethodParams, MethodResult } from '../trainer/protocol';
import { copyAtomic, writeJsonAtomic } from '../fs-safety/atomic';
import { CallError, type Handlers } from './dispatch';

/** Native dialogs of the desktop app (absent in serve mode). */
export interface HostDialogs {
  pickDirectory(title: string): Promise<string | undefined>;
  pickSavePath(defaultName: string): Promise<string | undefined>;
}

type ExportHandlers = Pick<
  Handlers,
  'export:model' | 'export:latents' | 'export:gallery' | 'export:list' | 'export:saveAs' | 'models:import'
>;

export interface ExportsDeps {
  trainer: TrainerSupervisor;
  workspaceDir: string;
  dialogs?: HostDialogs;
  getRun(runId: string): { run: RunSummary; dir: string } | undefined;
  /** The workspace's runs (export file names are made unique among their names). */
  listRuns?(): RunSummary[];
  /** Registers a run made from an imported model (runs service). */
  addImportedRun(run: RunSummary): void;
}

const EXPORT_TIMEOUT_MS = 5 * 60_000;

export function newExportId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15).toLowerCase();
  return `exp-${stamp}-${crypto.randomBytes(3).toString('hex')}`;
}

/** The export folder of `exportId`, or undefined when the id is not a plain export id. */
export function exportDir(workspaceDir: string, exportId: string): string | undefined {
  if (!/^exp-[a-z0-9-]{1,60}$/.test(exportId)) return undefined;
  return path.join(workspaceDir, 'exports', exportId);
}

/** Reads one export's record; undefined when missing or damaged. */
export function readExport(workspaceDir: string, exportId: string): ExportRecord | undefined {
  const dir = exportDir(workspaceDir, exportId);
  if (!dir) return undefined;
  try {
    const rec = ExportRecord.parse(JSON.parse(fs.readFileSync(path.join(dir, 'export.json'), 'utf8')));
    return rec.exportId === exportId ? rec : undefined;
  } catch {
    return undefined;
  }
}

export function exportHandlers(deps: ExportsDeps): ExportHandlers {
  const ws = deps.workspaceDir;
  /** Export files are named by the run's name (file-safe, unique among the workspace's runs), else its id. */
  const fileBase = (runId: string) => {
    const run = deps.getRun(runId)?.run;
    return run ? exportFileBase(run, deps.listRuns?.() ?? []) : runId;
  };
  const trainedRun = (runId: string) => {
    const r = deps.getRun(runId);
    if (!r) throw new CallError('not_found', `There is no run '${runId}' in this workspace.`);
    if (!fs.existsSync(path.join(r.dir, 'model', 'encoder', 'model.json'))) {
      throw new CallError(
        'conflict',
        `Run '${runId}' has no trained model yet (it is ${r.run.status}); export a run that has finished training.`,
      );
    }
    return r;
  };

  const runExport = async (
    runId: string,
    kind: ExportRecord['kind'],
    format: ExportRecord['format'],
    fileName: string,
    job: Omit<MethodParams<'exportRun'>, 'runDir' | 'workspaceDir' | 'out'>,
    part?: ExportRecord['part'],
  ): Promise<ExportRecord> => {
    const r = trainedRun(runId);
    const exportId = newExportId();
    const dir = path.join(ws, 'exports', exportId);
    const out = path.join(dir, fileName);
    fs.mkdirSync(dir, { recursive: true });
    try {
      // the trainer reports what it wrote (absolute paths): listed relative to the export folder
      const written = await deps.trainer.request(
        'exportRun',
        { ...job, runDir: r.dir, workspaceDir: ws, out },
        EXPORT_TIMEOUT_MS,
      );
      const bytes = written.bytes;
      const files = written.files.map((f) => path.relative(dir, f)).sort();
      const rec: ExportRecord = {
        exportId,
        runId,
        kind,
        format,
        part,
        fileName,
        bytes,
        files,
        createdAt: Date.now(),
        download: `/exports/${exportId}`,
        ...(written.inspector ? { inspector: true } : {}),
      };
      writeJsonAtomic(path.join(dir, 'export.json'), rec);
      return rec;
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw err; // dispatch's hostErrorCode words it
    }
  };

  return {
    'export:model': ({ runId, format, part }) => {
      const name = `${fileBase(runId)}-${part === 'full' ? 'autoencoder' : part}`;
      const fileName = format === 'tfjs' ? `${name}-tfjs` : `${name}.${format}`;
      return runExport(runId, 'model', format, fileName, { op: 'model', format, part }, part);
    },
    'export:latents': ({ runId, dataset }) => {
      const r = trainedRun(runId);
      return runExport(runId, 'latents', 'csv', `${fileBase(runId)}-latents.csv`, {
        op: 'latents',
        dataset: dataset ?? r.run.dataset,
      });
    },
    'export:gallery': ({ runId, view, count, seed }) => {
      const r = trainedRun(runId);
      return runExport(runId, 'gallery', 'png', `${fileBase(runId)}-${view}.png`, {
        op: 'gallery',
        view,
        count,
        seed,
        dataset: r.run.dataset,
      });
    },
    'export:list': ({ runId }) => {
      const dir = path.join(ws, 'exports');
      const ids = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
      return ids
        .map((id) => readExport(ws, id))
        .filter((e): e is ExportRecord => !!e && (!runId || e.runId === runId))
        .sort((a, b) => b.createdAt - a.createdAt);
    },
    'export:saveAs': async ({ exportId }) => {
      const rec = readExport(ws, exportId);
      if (!rec) throw new CallError('not_found', `There is no export '${exportId}'.`);
      if (!deps.dialogs)
        throw new CallError(
          'invalid_payload',
          'Save dialogs exist in the desktop app; in the browser use the download link.',
        );
      const dest = await deps.dialogs.pickSavePath(rec.fileName);
      if (!dest) return { savedTo: null };
      await copyAtomic(path.join(ws, 'exports', exportId, rec.fileName), dest);
      return { savedTo: dest };
    },
    'models:import': async ({ path: given }) => {
      let src = given;
      if (!src) {
        if (!deps.dialogs)
          throw new CallError(
            'invalid_payload',
            'Give the folder of a TensorFlow.js export (the one holding model.json).',
          );
        src = await deps.dialogs.pickDirectory('Import a TensorFlow.js autoencoder');
        if (!src) return { cancelled: true };
      }
      if (!fs.existsSync(path.join(src, 'model.json')))
        throw new CallError(
          'invalid_payload',
          `${src} has no model.json: choose the folder of a TensorFlow.js export.`,
        );
      const runId = `imported-${newExportId().slice(4)}`;
      const runDir = path.join(ws, 'runs', runId);
      let res: MethodResult<'importModel'>;
      try {
        res = await deps.trainer.request('importModel', { src, runDir, workspaceDir: ws }, EXPORT_TIMEOUT_MS);
      } catch (err) {
        fs.rmSync(runDir, { recursive: true, force: true });
        throw err; // dispatch's hostErrorCode words it
      }
      deps.addImportedRun({
        runId,
        status: 'stopped',
        config: res.config,
        dataset: res.dataset,
        epochsDone: res.epochsDone,
        history: res.history,
        startedAt: Date.now(),
        message: `Imported from ${src}. The Gallery shows it; Resume trains it for ${res.config.epochs} more epochs.`,
      });
      return { cancelled: false, runId };
    },
  };
}
