// Zip archives (dropped .zip files and NumPy .npz, which is a zip of .npy arrays), under one set of
// limits: unsafe entry names (`..`, absolute paths) are never extracted, nested archives are not
// opened, and an archive with too many entries, an entry with a zip-bomb compression ratio, or more
// than the total uncompressed size is refused entry by entry — before anything is inflated.
import path from 'node:path';
import yauzl from 'yauzl';
import { ARCHIVE_EXT, IMAGE_EXT, type Limits, type SkippedFile, type Source } from './options';

/** What to do with an entry whose name passed the safety checks: take it, skip it with a reason, or pass over it silently. */
type Accept = (name: string, ext: string) => true | false | string;

/** The entries of an archive that pass the limits and `accept`; every refused one is in `skipped`. */
export async function scanZip(
  full: string,
  rel: string,
  skipped: SkippedFile[],
  opts: Pick<Limits, 'maxZipEntries' | 'maxZipBytes' | 'maxZipRatio'>,
  accept: Accept,
): Promise<{ zip: yauzl.ZipFile; wanted: Array<{ entry: yauzl.Entry; name: string }> } | undefined> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(
        full,
        { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: false },
        (e, z) => (e ? reject(e) : resolve(z)),
      ),
    );
  } catch (err) {
    skipped.push({ file: rel, reason: `not a readable zip archive: ${(err as Error).message}` });
    return undefined;
  }
  let entries = 0;
  let bytes = 0;
  const wanted: Array<{ entry: yauzl.Entry; name: string }> = [];
  await new Promise<void>((resolve) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      // Names are decoded here, not by yauzl, so one hostile name skips that entry instead of
      // aborting the whole archive.
      const name = (
        yauzl as unknown as { getFileNameLowLevel(f: number, raw: Buffer, extra: unknown[], strict: boolean): string }
      ).getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileName as unknown as Buffer, entry.extraFields, false);
      const where = `${rel}/${name}`;
      entries++;
      if (name.endsWith('/')) return zip.readEntry();
      const bad = yauzl.validateFileName(name);
      if (bad || name.split('/').includes('..') || path.isAbsolute(name) || /^[a-zA-Z]:/.test(name)) {
        skipped.push({
          file: where,
          reason: `unsafe path in the archive (${bad ?? 'leaves the archive folder'}); not extracted`,
        });
      } else if (entries > opts.maxZipEntries) {
        skipped.push({ file: where, reason: `archive has more than ${opts.maxZipEntries} entries` });
      } else if (entry.compressedSize > 0 && entry.uncompressedSize / entry.compressedSize > opts.maxZipRatio) {
        skipped.push({
          file: where,
          reason: `compression ratio ${Math.round(entry.uncompressedSize / entry.compressedSize)}:1 looks like a zip bomb`,
        });
      } else if (bytes + entry.uncompressedSize > opts.maxZipBytes) {
        skipped.push({
          file: where,
          reason: `archive unpacks to more than ${Math.round(opts.maxZipBytes / 2 ** 20)} MB`,
        });
      } else {
        const verdict = accept(name, path.extname(name.toLowerCase()));
        if (typeof verdict === 'string') skipped.push({ file: where, reason: verdict });
        else if (verdict) {
          bytes += entry.uncompressedSize;
          wanted.push({ entry, name });
        }
      }
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', (e: Error) => {
      skipped.push({ file: rel, reason: `damaged zip archive: ${e.message}` });
      resolve();
    });
    zip.readEntry();
  });
  return { zip, wanted };
}

/** The bytes of one entry (yauzl checks them against the declared size while inflating). */
export function readZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) =>
    zip.openReadStream(entry, (e, stream) => {
      if (e || !stream) return reject(new Error(`damaged zip entry: ${e?.message ?? 'no data'}`));
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('error', (err: Error) => reject(new Error(`damaged zip entry: ${err.message}`)));
    }),
  );
}

/** A dropped zip: its image entries become sources (the first folder in an entry's path is its label). */
export async function addZip(
  full: string,
  rel: string,
  sources: Source[],
  skipped: SkippedFile[],
  opts: Limits,
): Promise<void> {
  const scanned = await scanZip(full, rel, skipped, opts, (_name, ext) =>
    ARCHIVE_EXT.has(ext)
      ? 'nested archive (not opened)'
      : IMAGE_EXT.has(ext)
        ? true
        : `unsupported file type '${ext || '(none)'}'`,
  );
  if (!scanned) return;
  for (const { entry, name } of scanned.wanted) {
    const parts = name.split('/');
    sources.push({
      file: `${rel}/${name}`,
      label: parts.length > 1 ? parts[0] : '',
      read: () => readZipEntry(scanned.zip, entry),
    });
  }
}
