// Datasets over the contract: the store's list, built-ins, previews, rename and delete,
// imports of the user's own files (paths or a serve-mode upload, discarded when not imported).
import { z } from 'zod';

export const DatasetId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a dataset id is lower-case letters, digits and dashes');
export const BuiltinDatasetName = z.enum(['mnist', 'fashion-mnist', 'shapes']);

export const DatasetManifest = z.object({
  schemaVersion: z.number().int(),
  id: DatasetId,
  name: z.string(),
  source: z.union([
    z.object({ kind: z.literal('builtin'), builtin: z.string() }),
    z.object({ kind: z.literal('import'), paths: z.array(z.string()) }),
    z.object({ kind: z.literal('generated'), run: z.string() }),
  ]),
  shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  count: z.number().int(),
  labelNames: z.array(z.string()),
  labelCounts: z.array(z.number().int()),
  createdAt: z.number(),
  options: z
    .object({
      size: z.number().optional(),
      mode: z.string().optional(),
      fit: z.string().optional(),
      background: z.string().optional(),
      validationSplit: z.number(),
      seed: z.number(),
    })
    .optional(),
  report: z
    .object({
      imported: z.number(),
      skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
      labelCounts: z.record(z.string(), z.number()),
    })
    .optional(),
  /** Rows a trained run generated (`ae-studio generate`), not real images. */
  generated: z
    .array(
      z.object({
        from: z.number().int(),
        count: z.number().int(),
        run: z.string(),
        sampler: z.string(),
        label: z.string().optional(),
        seed: z.number(),
        createdAt: z.number(),
      }),
    )
    .optional(),
  /** One half of an inspection set: the good pictures to train on, or the test pictures (masks.u8 when `masks`). */
  inspection: z
    .object({
      role: z.enum(['train', 'test']),
      pair: DatasetId,
      goodLabel: z.number().int(),
      masks: z.boolean(),
      layout: z.enum(['mvtec', 'good-suspects']),
    })
    .optional(),
});
export type DatasetManifest = z.infer<typeof DatasetManifest>;

/** A listed dataset, or one that could not be read (flagged; the others are unaffected). */
export const DatasetEntry = z.union([DatasetManifest, z.object({ id: z.string(), error: z.string() })]);
export type DatasetEntry = z.infer<typeof DatasetEntry>;

export const ImportOptions = z
  .object({
    size: z.number().int().min(4).max(512).default(28),
    mode: z.enum(['grayscale', 'rgb']).default('grayscale'),
    fit: z.enum(['stretch', 'crop', 'pad']).default('stretch'),
    /** The share of images runs on this dataset hold out for validation by default. */
    validationSplit: z.number().min(0).max(0.5).default(0.1),
    /** Seed of that split. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
    /** What transparent pixels (and the padding of `fit: pad`) become. */
    background: z.enum(['black', 'white']).default('black'),
  })
  .strict();

/** A relative path inside an upload: no `..`, no absolute paths, no backslashes or NUL. */
export const UploadPath = z
  .string()
  .min(1)
  .max(1024)
  // eslint-disable-next-line no-control-regex -- NUL is exactly what is refused
  .refine(
    (p) =>
      !p.startsWith('/') &&
      !/^[a-zA-Z]:/.test(p) &&
      !/[\\\u0000]/.test(p) &&
      !p.split('/').some((s) => s === '..' || s === '.' || s === ''),
    'not a safe relative path',
  );

/** What to import: absolute paths (the desktop app, dropped files) or an upload (serve mode). */
export const ImportSource = z.union([
  z.object({ paths: z.array(z.string().min(1).max(4096)).min(1).max(10_000) }).strict(),
  z.object({ uploadId: z.string().regex(/^up-[0-9a-f]{16}$/) }).strict(),
]);

export const ImportReport = z.object({
  imported: z.number().int(),
  skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
  labelCounts: z.record(z.string(), z.number().int()),
});

export const ImportProgressPayload = z.object({
  jobId: z.string(),
  done: z.number(),
  total: z.number(),
  skipped: z.number(),
  etaSec: z.number(),
});
export const ImportDonePayload = z.object({
  jobId: z.string(),
  status: z.enum(['done', 'failed', 'cancelled']),
  manifest: DatasetManifest.optional(),
  report: ImportReport.optional(),
  message: z.string().optional(),
});

export const datasetEvents = {
  'datasets:importProgress': ImportProgressPayload,
  'datasets:importDone': ImportDonePayload,
};

export const datasetCalls = {
  /** Every dataset in the workspace, newest first. */
  'datasets:list': { req: z.object({}).strict(), res: z.array(DatasetEntry) },
  /** Makes a built-in dataset ready (decoded in the trainer process, written to the store). */
  'datasets:addBuiltin': { req: z.object({ name: BuiltinDatasetName }).strict(), res: DatasetManifest },
  /** A few images from every label (base64 uint8 pixels, with their label numbers) and the mean image, for preview grids. */
  'datasets:preview': {
    req: z.object({ id: DatasetId, count: z.number().int().min(1).max(64).default(16) }).strict(),
    res: z.object({
      manifest: DatasetManifest,
      images: z.array(z.string()),
      labels: z.array(z.number().int()).optional(),
      mean: z.string(),
    }),
  },
  /** One page of a dataset's images (all of them, or one label's), with their positions in the dataset. */
  'datasets:page': {
    req: z
      .object({
        id: DatasetId,
        label: z.number().int().min(0).max(100_000).optional(),
        offset: z.number().int().min(0).max(100_000_000).default(0),
        limit: z.number().int().min(1).max(200).default(48),
      })
      .strict(),
    res: z.object({
      total: z.number().int(),
      offset: z.number().int(),
      indices: z.array(z.number().int()),
      labels: z.array(z.number().int()),
      images: z.array(z.string()),
      shape: z.tuple([z.number(), z.number(), z.number()]),
    }),
  },
  /** Removes images (by position) from a dataset; the others keep their order. Refused while a run trains on it. */
  'datasets:removeImages': {
    req: z
      .object({ id: DatasetId, indices: z.array(z.number().int().min(0).max(100_000_000)).min(1).max(10_000) })
      .strict(),
    res: DatasetManifest,
  },
  'datasets:rename': {
    req: z.object({ id: DatasetId, name: z.string().min(1).max(200) }).strict(),
    res: DatasetManifest,
  },
  'datasets:delete': { req: z.object({ id: DatasetId }).strict(), res: z.object({ deleted: z.literal(true) }) },
  /** Imports files: absolute paths (Electron, dropped files) or an upload (serve mode). Runs in the trainer; progress and the report come as events. */
  'datasets:import': {
    req: z
      .object({
        source: ImportSource,
        name: z.string().min(1).max(200),
        options: ImportOptions.default({
          size: 28,
          mode: 'grayscale',
          fit: 'stretch',
          validationSplit: 0.1,
          seed: 42,
          background: 'black',
        }),
        /** Adds the images to this dataset (converted as its images were) instead of making a new one. */
        into: DatasetId.optional(),
      })
      .strict(),
    res: z.object({ jobId: z.string() }),
  },
  /** The first few images converted with the chosen options, before importing (live preview). */
  'datasets:previewImport': {
    req: z
      .object({
        source: ImportSource,
        options: ImportOptions.default({
          size: 28,
          mode: 'grayscale',
          fit: 'stretch',
          validationSplit: 0.1,
          seed: 42,
          background: 'black',
        }),
        count: z.number().int().min(1).max(64).default(8),
      })
      .strict(),
    res: z.object({
      images: z.array(z.string()),
      labels: z.array(z.string()),
      shape: z.tuple([z.number(), z.number(), z.number()]),
      skipped: z.number(),
    }),
  },
  /** Cancels an import; nothing is written. */
  'datasets:cancelImport': {
    req: z.object({ jobId: z.string().max(64) }).strict(),
    res: z.object({ cancelling: z.boolean() }),
  },
  /** Serve mode: starts an upload of dropped files (the browser cannot give paths). */
  'datasets:uploadBegin': { req: z.object({}).strict(), res: z.object({ uploadId: z.string() }) },
  /** Serve mode: one chunk of one file (base64, at most 1 MiB decoded). */
  'datasets:uploadChunk': {
    req: z
      .object({
        uploadId: z.string().regex(/^up-[0-9a-f]{16}$/),
        path: UploadPath,
        data: z.string().max(1_400_000),
        append: z.boolean(),
      })
      .strict(),
    res: z.object({ bytes: z.number().int() }),
  },
  /** Serve mode: drops an upload that will not be imported (Discard); its files are removed from the workspace. */
  'datasets:uploadDiscard': {
    req: z.object({ uploadId: z.string().regex(/^up-[0-9a-f]{16}$/) }).strict(),
    res: z.object({ discarded: z.boolean() }),
  },
};
