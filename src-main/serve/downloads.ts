// Serve mode's download of an export: GET /exports/<exportId> after the same token check
// as every other request. A file streams as is; a folder (a TensorFlow.js export) streams as an
// uncompressed zip built on the fly (fflate's ZipPassThrough: no whole-file buffering).
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { Zip, ZipPassThrough } from 'fflate';
import { readExport } from '../host/exports';

const MIME: Record<string, string> = {
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.keras': 'application/zip',
  '.onnx': 'application/octet-stream',
  '.zip': 'application/zip',
};

/** RFC 6266 attachment header with a plain ASCII fallback name. */
const attachment = (name: string) =>
  `attachment; filename="${name.replace(/[^\w.-]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;

/**
 * Answers a download request for `exportId` in `workspaceDir`; returns false when there is no such
 * export (the caller answers 404).
 */
export function sendExport(
  workspaceDir: string,
  exportId: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  headers: Record<string, string>,
): boolean {
  const rec = readExport(workspaceDir, exportId);
  if (!rec) return false;
  const target = path.join(workspaceDir, 'exports', exportId, rec.fileName);
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    return false;
  }
  if (st.isFile()) {
    res.writeHead(200, {
      ...headers,
      'Content-Type': MIME[path.extname(target)] ?? 'application/octet-stream',
      'Content-Length': String(st.size),
      'Content-Disposition': attachment(rec.fileName),
    });
    if (req.method === 'HEAD') return (res.end(), true);
    fs.createReadStream(target).pipe(res);
    return true;
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': 'application/zip',
    'Content-Disposition': attachment(`${rec.fileName}.zip`),
  });
  if (req.method === 'HEAD') return (res.end(), true);
  const zip = new Zip((err, chunk, final) => {
    if (err) return res.destroy(err);
    res.write(chunk);
    if (final) res.end();
  });
  const files = fs.readdirSync(target, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  void (async () => {
    try {
      for (const e of files) {
        const full = path.join(e.parentPath, e.name);
        const entry = new ZipPassThrough(
          path.posix.join(rec.fileName, path.relative(target, full).split(path.sep).join('/')),
        );
        zip.add(entry);
        for await (const chunk of fs.createReadStream(full)) entry.push(chunk as Uint8Array);
        entry.push(new Uint8Array(0), true);
      }
      zip.end();
    } catch (err) {
      res.destroy(err as Error);
    }
  })();
  return true;
}
