// What an import takes and reports, the limits it applies, and the one cancellation error.
// Shared by every part of the import pipeline (index.ts).

export interface ImportOptions {
  /** Target width and height. */
  size: number;
  mode: 'grayscale' | 'rgb';
  /** stretch to the square, centre-crop, or pad (with the background colour). */
  fit: 'stretch' | 'crop' | 'pad';
  /** What transparent pixels and padding become (black when absent). */
  background?: 'black' | 'white';
  /** Largest declared width × height accepted (decompression bombs are refused from the header). */
  maxPixels?: number;
  /** Zip limits: entries, total uncompressed bytes, compression ratio of one entry. */
  maxZipEntries?: number;
  maxZipBytes?: number;
  maxZipRatio?: number;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** Decode only the first N images (the live preview before an import). */
  limit?: number;
}

export interface ImportProgress {
  done: number;
  total: number;
  skipped: number;
  etaSec: number;
}

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface ImportReport {
  imported: number;
  skipped: SkippedFile[];
  labelCounts: Record<string, number>;
}

export const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp', '.bmp']);
export const ARCHIVE_EXT = new Set(['.zip', '.tar', '.gz', '.tgz', '.7z', '.rar']);
export const DEFAULTS = {
  maxPixels: 50_000_000,
  maxZipEntries: 200_000,
  maxZipBytes: 4 * 2 ** 30,
  maxZipRatio: 200,
  background: 'black' as 'black' | 'white',
};

/** One thing to decode: bytes (read lazily) plus where it came from and its label. */
export interface Source {
  file: string;
  label: string;
  read: () => Promise<Buffer>;
}

export class ImportCancelled extends Error {
  constructor() {
    super('The import was cancelled; nothing was written.');
    this.name = 'ImportCancelled';
  }
}

/** The options with every limit filled in. */
export type Limits = Required<Omit<ImportOptions, 'signal' | 'onProgress' | 'limit'>>;

/** A file-system error in plain words. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'cannot read: permission denied';
  if (code === 'ENOENT') return 'not found';
  if (code === 'ELOOP') return 'symbolic link loop';
  return `cannot read: ${(err as Error).message}`;
}
