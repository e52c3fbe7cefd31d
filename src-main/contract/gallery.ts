// What a trained run offers the Gallery: reconstructions with per-image metrics,
// generated samples, the worst reconstructions, the latent map, the manifold grid and
// interpolations. Images are base64 uint8 pixels of `shape`.
import { z } from 'zod';
import { RunId } from './runs';

const Img = z.array(z.string());
const Shape = z.tuple([z.number(), z.number(), z.number()]);

/** The samplers of docs/generation.md (engine/generation/samplers.ts SAMPLER_NAMES). */
export const SamplerName = z.enum(['prior', 'diagonal', 'full', 'gmm', 'two-stage']);

/** What choosing a run's sampler answers (see 'gallery:chooseSampler'). */
export const ChosenSampler = z.object({
  chosen: SamplerName,
  /** The fitted sampler in words (e.g. the mixture size chosen). */
  description: z.string(),
  /** How many training codes it was fitted to (0 for the prior). */
  fittedOn: z.number().int().min(0),
});
export type ChosenSampler = z.infer<typeof ChosenSampler>;

const Scores = z.object({ frechet: z.number(), precision: z.number(), recall: z.number() });

/** The samplers' images and, when measured, their numbers (see 'gallery:samplers'). */
export const GallerySamplers = z.object({
  shape: Shape,
  /** The sampler the run remembers (generates with), if one was chosen. */
  chosen: z.string().nullable(),
  samplers: z.array(
    z.object({
      name: z.string(),
      title: z.string(),
      /** The fitted sampler in words (e.g. the mixture size chosen). */
      description: z.string().optional(),
      images: Img.optional(),
      /** Why this sampler does not apply (the prior of a plain autoencoder). */
      skipped: z.string().optional(),
    }),
  ),
  measured: z
    .object({
      measuredAt: z.string(),
      features: z.object({ kind: z.enum(['classifier', 'encoder']), description: z.string(), dim: z.number() }),
      featuresNote: z.string(),
      count: z.number().int(),
      fittedOn: z.number().int(),
      k: z.number().int(),
      floor: Scores,
      reconstructions: Scores,
      samplers: z.array(z.object({ name: z.string(), scores: Scores.optional(), skipped: z.string().optional() })),
    })
    .nullable(),
});
export type GallerySamplers = z.infer<typeof GallerySamplers>;

/** What each Gallery view answers (the trainer computes it; the host checks it before it leaves). */
export const GalleryViews = {
  triplets: z.object({
    shape: Shape,
    originals: Img,
    noisy: Img,
    reconstructions: Img,
    mse: z.array(z.number()),
    psnr: z.array(z.number().nullable()),
    ssim: z.array(z.number()),
  }),
  samples: z.object({ shape: Shape, images: Img }),
  worst: z.object({ shape: Shape, originals: Img, reconstructions: Img, mse: z.array(z.number()) }),
  latent: z.object({
    points: z.array(z.number()),
    labels: z.array(z.number()),
    /** The dataset's name of each label number: `labelNames[labels[i]]`. */
    labelNames: z.array(z.string()),
    method: z.enum(['identity', 'pca']),
    explained: z.number(),
    /** The image of each point (hover shows it), for the first points up to about 4 MB of pixels. */
    shape: Shape.optional(),
    images: Img.optional(),
  }),
  manifold: z.object({ shape: Shape, images: Img }),
  interpolate: z.object({ shape: Shape, images: Img }),
};

/** What Try it answers: each picture's reconstruction and scores, or why it could not be read. */
export const GalleryTryResult = z.object({
  shape: Shape,
  results: z.array(
    z.object({
      name: z.string(),
      error: z.string().optional(),
      original: z.string().optional(),
      reconstruction: z.string().optional(),
      code: z.array(z.number()).optional(),
      mse: z.number().optional(),
      psnr: z.number().nullable().optional(),
      ssim: z.number().optional(),
      /** Share of validation images (0…1) reconstructed better than this one: near 1 = unlike what the model learned. */
      unusual: z.number().optional(),
    }),
  ),
});
export type GalleryTryResult = z.infer<typeof GalleryTryResult>;

export const galleryCalls = {
  /** Validation images, their noisy inputs and reconstructions, with MSE / PSNR / SSIM each. */
  'gallery:triplets': {
    req: z.object({ runId: RunId, count: z.number().int().min(1).max(64).default(12) }).strict(),
    res: GalleryViews.triplets,
  },
  /** New images from the run's chosen sampler, else the prior (VAE) or a Gaussian fitted to the codes. */
  'gallery:samples': {
    req: z
      .object({
        runId: RunId,
        count: z.number().int().min(1).max(64).default(16),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .default(1),
      })
      .strict(),
    res: GalleryViews.samples,
  },
  /**
   * Samplers side by side: `count` new images from each sampler (prior, diagonal, full, gmm,
   * two-stage; fitted to the run's training codes) and, when measured, each one's Fréchet distance,
   * precision and recall beside the reconstructions and the real-data floor (docs/generation.md).
   * `measure` runs the measurement now (the dataset's classifier is trained the first time: up to a
   * minute or more); without it the last saved measurement of the run is returned, if any.
   */
  'gallery:samplers': {
    req: z
      .object({
        runId: RunId,
        count: z.number().int().min(1).max(32).default(8),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .default(1),
        measure: z.boolean().default(false),
      })
      .strict(),
    res: GallerySamplers,
  },
  /**
   * Makes `sampler` the run's remembered sampler, as `ae-studio generate --sampler NAME` does: fits
   * it to the run's training codes and saves it as runs/<id>/generation/sampler.json, which the
   * Gallery's samples, `generate` without `--sampler` and TF.js decoder exports then use.
   */
  'gallery:chooseSampler': {
    req: z.object({ runId: RunId, sampler: SamplerName }).strict(),
    res: ChosenSampler,
  },
  /** The validation images reconstructed worst, largest error first. */
  'gallery:worst': {
    req: z.object({ runId: RunId, count: z.number().int().min(1).max(64).default(8) }).strict(),
    res: GalleryViews.worst,
  },
  /** Codes of validation images in 2-D (PCA above 2-D), with labels and the images themselves. */
  'gallery:latent': {
    req: z.object({ runId: RunId, max: z.number().int().min(10).max(5000).default(1500) }).strict(),
    res: GalleryViews.latent,
  },
  /** A grid × grid of images decoded across a 2-D code space (2-D codes only). */
  'gallery:manifold': {
    req: z.object({ runId: RunId, grid: z.number().int().min(2).max(20).default(10) }).strict(),
    res: GalleryViews.manifold,
  },
  /**
   * Try it: new pictures (the files' bytes, base64; PNG, JPEG, GIF, WebP or BMP) converted as the
   * run's dataset was, then reconstructed and encoded, with their error and how unusual that error
   * is among the validation images (a score for anomaly use). A file that cannot be read gets its
   * reason instead.
   */
  'gallery:try': {
    req: z
      .object({
        runId: RunId,
        files: z
          .array(z.object({ name: z.string().min(1).max(260), data: z.string().min(1).max(11_200_000) }).strict())
          .min(1)
          .max(32),
      })
      .strict(),
    res: GalleryTryResult,
  },
  /** Images along the line between the codes of two validation images. */
  'gallery:interpolate': {
    req: z
      .object({
        runId: RunId,
        a: z.number().int().min(0),
        b: z.number().int().min(0),
        steps: z.number().int().min(2).max(20).default(8),
      })
      .strict(),
    res: GalleryViews.interpolate,
  },
};
