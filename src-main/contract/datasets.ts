// Datasets over the contract (issue #4, first part): the store's list, built-ins, previews,
// rename and delete. Import of the user's own files arrives with the rest of that issue.
import { z } from 'zod';

export const DatasetId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a dataset id is lower-case letters, digits and dashes');
export const BuiltinDatasetName = z.enum(['mnist', 'fashion-mnist', 'shapes']);

export const DatasetManifest = z.object({
  schemaVersion: z.number().int(),
  id: DatasetId,
  name: z.string(),
  source: z.union([z.object({ kind: z.literal('builtin'), builtin: z.string() }), z.object({ kind: z.literal('import'), paths: z.array(z.string()) })]),
  shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  count: z.number().int(),
  labelNames: z.array(z.string()),
  labelCounts: z.array(z.number().int()),
  createdAt: z.number(),
});
export type DatasetManifest = z.infer<typeof DatasetManifest>;

/** A listed dataset, or one that could not be read (flagged; the others are unaffected). */
export const DatasetEntry = z.union([DatasetManifest, z.object({ id: z.string(), error: z.string() })]);
export type DatasetEntry = z.infer<typeof DatasetEntry>;

export const datasetCalls = {
  /** Every dataset in the workspace, newest first. */
  'datasets:list': { req: z.object({}).strict(), res: z.array(DatasetEntry) },
  /** Makes a built-in dataset ready (decoded in the trainer process, written to the store). */
  'datasets:addBuiltin': { req: z.object({ name: BuiltinDatasetName }).strict(), res: DatasetManifest },
  /** The first images (base64 uint8 pixels) and the mean image, for preview grids. */
  'datasets:preview': {
    req: z.object({ id: DatasetId, count: z.number().int().min(1).max(64).default(16) }).strict(),
    res: z.object({ manifest: DatasetManifest, images: z.array(z.string()), mean: z.string() }),
  },
  'datasets:rename': { req: z.object({ id: DatasetId, name: z.string().min(1).max(200) }).strict(), res: DatasetManifest },
  'datasets:delete': { req: z.object({ id: DatasetId }).strict(), res: z.object({ deleted: z.literal(true) }) },
};
