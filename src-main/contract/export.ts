// Export over the contract: a trained run's encoder, decoder or whole autoencoder as
// TensorFlow.js, Keras 3 or ONNX; latent codes as CSV; a gallery view as a PNG grid. Every export
// is written into the workspace (<workspace>/exports/<exportId>/) and then saved elsewhere with a
// native dialog (desktop) or downloaded (serve mode, `download` is the URL path).
import { z } from 'zod';
import { RunDataset, RunId } from './runs';
import { AbsolutePath } from './workspace';

export const EXPORT_FORMATS = ['tfjs', 'keras', 'onnx'] as const;
export const EXPORT_PARTS = ['encoder', 'decoder', 'full'] as const;
export const ExportId = z.string().regex(/^exp-[a-z0-9-]{1,60}$/, 'an export id looks like exp-…');

export const ExportRecord = z.object({
  exportId: ExportId,
  runId: RunId,
  /** `job`: a PyTorch cluster job folder (jobs.ts). */
  kind: z.enum(['model', 'latents', 'gallery', 'job']),
  format: z.enum([...EXPORT_FORMATS, 'csv', 'png', 'torch']),
  part: z.enum(EXPORT_PARTS).optional(),
  /** File (or, for TensorFlow.js, folder) name. */
  fileName: z.string(),
  /** Total size in bytes. */
  bytes: z.number().int().nonnegative(),
  /** Files written (relative to the export). */
  files: z.array(z.string()),
  createdAt: z.number(),
  /** Serve mode: URL path that downloads it (a folder comes as a .zip). */
  download: z.string(),
  /** An ONNX export of an inspection run: outputs `anomaly_map` and `score`, the threshold in its metadata (docs/inspection.md). */
  inspector: z.boolean().optional(),
});
export type ExportRecord = z.infer<typeof ExportRecord>;

/** How long the run-name part of an export's file name may be. */
const FILE_BASE_MAX = 60;

/** A run's name as a file name: ASCII letters, digits and dashes, lower case ("Conv, 16-d (pics)" → "conv-16-d-pics"); '' when nothing is left. */
export function fileSafeName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents off their letters
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, FILE_BASE_MAX)
    .replace(/-+$/, '');
}

/**
 * The start of a run's export file names: its name made file-safe, with the end of its id added
 * when another run's name would give the same file names; the run id when it has no usable name.
 */
export function exportFileBase(
  run: { runId: string; name?: string },
  others: ReadonlyArray<{ runId: string; name?: string }>,
): string {
  const base = fileSafeName(run.name ?? '');
  if (!base) return run.runId;
  const clash = others.some((o) => o.runId !== run.runId && fileSafeName(o.name ?? '') === base);
  return clash ? `${base}-${run.runId.slice(-4)}` : base;
}

export const GALLERY_EXPORT_VIEWS = ['triplets', 'samples', 'worst', 'manifold'] as const;

export const exportCalls = {
  /** Exports a finished run's model in one format (the message names a layer a format cannot express). */
  'export:model': {
    req: z
      .object({ runId: RunId, format: z.enum(EXPORT_FORMATS), part: z.enum(EXPORT_PARTS).default('full') })
      .strict(),
    res: ExportRecord,
  },
  /** The codes of a dataset's images (the run's own dataset unless given) as CSV with labels. */
  'export:latents': {
    req: z.object({ runId: RunId, dataset: RunDataset.optional() }).strict(),
    res: ExportRecord,
  },
  /** One Gallery view as a PNG grid. */
  'export:gallery': {
    req: z
      .object({
        runId: RunId,
        view: z.enum(GALLERY_EXPORT_VIEWS),
        count: z.number().int().min(1).max(64).default(16),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .default(1),
      })
      .strict(),
    res: ExportRecord,
  },
  /** Exports in the workspace, newest first (one run's when `runId` is given). */
  'export:list': { req: z.object({ runId: RunId.optional() }).strict(), res: z.array(ExportRecord) },
  /** Desktop: copies an export where the user picks with a native save dialog (`savedTo` null if cancelled). */
  'export:saveAs': {
    req: z.object({ exportId: ExportId }).strict(),
    res: z.object({ savedTo: z.string().nullable() }),
  },
  /**
   * Imports a TensorFlow.js export of a whole autoencoder made by the studio (its folder) as a new
   * run, to inspect in the Gallery or train further (Resume). Without `path` the desktop app shows a
   * native folder dialog.
   */
  'models:import': {
    req: z.object({ path: AbsolutePath.optional() }).strict(),
    res: z.object({ cancelled: z.boolean(), runId: RunId.optional() }),
  },
};
