// Host side of `datasets:*`: listing, previews, rename and delete read small files from the
// store; making a built-in ready (decoding tens of thousands of images) runs in the trainer.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Handlers } from './dispatch';
import { CallError, hostErrorCode } from './dispatch';
import type { TrainerEventArgs } from '../trainer/protocol';
import type { EventPayload } from '../contract';
import type { TrainerSupervisor } from '../trainer/supervisor';
import {
  deleteDataset,
  listDatasets,
  pageDataset,
  previewDataset,
  removeImages,
  renameDataset,
} from '../datasets/store';
import { toBase64 } from '../datasets/base64';

type Emit = <N extends 'datasets:importProgress' | 'datasets:importDone'>(name: N, payload: EventPayload<N>) => void;
const MAX_UPLOAD_BYTES = 8 * 2 ** 30;

/** Store errors reach the user as plain words with a code that says what happened: a missing dataset is `not_found`, a full disk `disk_full`, a damaged one `invalid_payload` (not 'internal'). */
function userError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    const code = hostErrorCode(err);
    throw new CallError(code === 'internal' ? 'invalid_payload' : code, (err as Error).message);
  }
}

type DatasetHandlers = Pick<
  Handlers,
  | 'datasets:list'
  | 'datasets:addBuiltin'
  | 'datasets:preview'
  | 'datasets:rename'
  | 'datasets:delete'
  | 'datasets:import'
  | 'datasets:previewImport'
  | 'datasets:cancelImport'
  | 'datasets:uploadBegin'
  | 'datasets:uploadChunk'
  | 'datasets:uploadDiscard'
  | 'datasets:page'
  | 'datasets:removeImages'
>;

/**
 * Where an upload's labels start: a lone folder at its top (a picked or dropped folder) is the
 * root, so that folder's sub-folder names become the labels — as `ae-studio import FOLDER` does —
 * not the folder's own name. Several dropped folders or files: their names are the labels.
 */
export function uploadRoot(dir: string): string {
  try {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    if (entries.length === 1 && entries[0].isDirectory()) return path.join(dir, entries[0].name);
  } catch {
    // an empty or missing upload: the import reports it
  }
  return dir;
}

export function datasetHandlers(
  trainer: TrainerSupervisor,
  workspaceDir: string,
  emit: Emit,
  /**
   * Why the dataset must not change now (a run of this studio or of another process trains on it:
   * its images must not change under it), or undefined.
   */
  inUse: (id: string) => string | undefined = () => undefined,
): { handlers: DatasetHandlers; dispose(): void } {
  const refuseInUse = (id: string) => {
    const why = inUse(id);
    if (why) throw new CallError('conflict', why);
  };
  const uploadsDir = path.join(workspaceDir, 'uploads');
  const uploads = new Map<string, { dir: string; bytes: number }>();
  // Uploads of an earlier session can never be imported (their ids lived in that session's memory).
  try {
    for (const name of fs.readdirSync(uploadsDir))
      if (/^up-[0-9a-f]{16}$/.test(name)) fs.rmSync(path.join(uploadsDir, name), { recursive: true, force: true });
  } catch {
    // no uploads folder yet
  }
  /** Running imports, and the upload folder each one consumes (removed when it ends). */
  const jobs = new Map<string, { uploadDir?: string }>();

  const finish = (jobId: string) => {
    const job = jobs.get(jobId);
    jobs.delete(jobId);
    if (job?.uploadDir) void fs.promises.rm(job.uploadDir, { recursive: true, force: true });
  };
  const onTrainerEvent = (...[name, payload]: TrainerEventArgs) => {
    if (name === 'import-progress' && jobs.has(payload.jobId)) emit('datasets:importProgress', payload);
    if (name === 'import-done' && jobs.has(payload.jobId)) {
      finish(payload.jobId);
      emit('datasets:importDone', payload);
    }
  };
  const onState = (st: EventPayload<'trainer:state'>) => {
    if (st.state !== 'crashed') return;
    for (const jobId of [...jobs.keys()]) {
      finish(jobId);
      emit('datasets:importDone', {
        jobId,
        status: 'failed',
        message: `The trainer process stopped during the import (${st.error ?? 'unknown reason'}). Nothing was written; try again.`,
      });
    }
  };
  trainer.on('trainer-event', onTrainerEvent);
  trainer.on('state', onState);

  /** The folders or files an import source names, checked. */
  const pathsOf = (source: { paths: string[] } | { uploadId: string }): string[] => {
    if ('uploadId' in source) {
      const up = uploads.get(source.uploadId);
      if (!up) throw new CallError('not_found', `There is no upload '${source.uploadId}'.`);
      return [uploadRoot(up.dir)];
    }
    if (!source.paths.every((p) => path.isAbsolute(p)))
      throw new CallError('invalid_payload', 'Import paths must be absolute.');
    return source.paths;
  };

  const handlers: DatasetHandlers = {
    'datasets:list': () => listDatasets(workspaceDir),
    'datasets:addBuiltin': ({ name }) => trainer.request('datasetBuiltin', { name, workspaceDir }, 120_000),
    'datasets:preview': ({ id, count }) =>
      userError(() => {
        const p = previewDataset(workspaceDir, id, count);
        return { manifest: p.manifest, images: p.images.map(toBase64), labels: p.labels, mean: toBase64(p.mean) };
      }),
    'datasets:page': ({ id, label, offset, limit }) =>
      userError(() => {
        const p = pageDataset(workspaceDir, id, { label, offset, limit });
        return { ...p, images: p.images.map(toBase64) };
      }),
    'datasets:removeImages': async ({ id, indices }) => {
      refuseInUse(id);
      try {
        return await removeImages(workspaceDir, id, indices);
      } catch (err) {
        throw new CallError('invalid_payload', (err as Error).message);
      }
    },
    'datasets:rename': ({ id, name }) => userError(() => renameDataset(workspaceDir, id, name)),
    'datasets:delete': ({ id }) => {
      refuseInUse(id);
      return userError(() => (deleteDataset(workspaceDir, id), { deleted: true as const }));
    },

    'datasets:uploadBegin': async () => {
      const uploadId = `up-${crypto.randomBytes(8).toString('hex')}`;
      const dir = path.join(uploadsDir, uploadId);
      await fs.promises.mkdir(dir, { recursive: true });
      uploads.set(uploadId, { dir, bytes: 0 });
      return { uploadId };
    },
    'datasets:uploadChunk': async ({ uploadId, path: rel, data, append }) => {
      const up = uploads.get(uploadId);
      if (!up) throw new CallError('not_found', `There is no upload '${uploadId}'.`);
      const file = path.resolve(up.dir, ...rel.split('/'));
      if (!file.startsWith(up.dir + path.sep)) throw new CallError('forbidden', 'That path leaves the upload folder.');
      const bytes = Buffer.from(data, 'base64');
      if (bytes.length > 1024 * 1024) throw new CallError('invalid_payload', 'A chunk may hold at most 1 MiB.');
      up.bytes += bytes.length;
      if (up.bytes > MAX_UPLOAD_BYTES) throw new CallError('invalid_payload', 'The upload is larger than 8 GiB.');
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await (append ? fs.promises.appendFile(file, bytes) : fs.promises.writeFile(file, bytes));
      return { bytes: up.bytes };
    },
    'datasets:previewImport': ({ source, options, count }) =>
      trainer.request('datasetPreviewImport', { paths: pathsOf(source), options, limit: count }, 60_000),
    'datasets:import': async ({ source, name, options, into }) => {
      if (into) {
        refuseInUse(into);
        userError(() => previewDataset(workspaceDir, into, 1)); // it exists and can be read
      }
      const jobId = `imp-${crypto.randomBytes(6).toString('hex')}`;
      const paths = pathsOf(source);
      // the import consumes an upload: its folder is removed when the job ends
      const uploadDir = 'uploadId' in source ? uploads.get(source.uploadId)?.dir : undefined;
      if ('uploadId' in source) uploads.delete(source.uploadId);
      jobs.set(jobId, { uploadDir });
      try {
        await trainer.request('datasetImport', {
          jobId,
          paths,
          name,
          options,
          workspaceDir,
          ...(into ? { into } : {}),
        });
      } catch (err) {
        finish(jobId);
        throw err;
      }
      return { jobId };
    },
    'datasets:uploadDiscard': async ({ uploadId }) => {
      const up = uploads.get(uploadId);
      if (!up) return { discarded: false };
      uploads.delete(uploadId);
      await fs.promises.rm(up.dir, { recursive: true, force: true });
      return { discarded: true };
    },
    'datasets:cancelImport': ({ jobId }) =>
      jobs.has(jobId) ? trainer.request('datasetCancelImport', { jobId }) : { cancelling: false },
  };
  return {
    handlers,
    dispose() {
      trainer.off('trainer-event', onTrainerEvent);
      trainer.off('state', onState);
    },
  };
}
