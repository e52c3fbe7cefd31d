// Where the peer benchmarks live (not part of this repository): the scripts in AE_ANCHORS (default
// `shared/anchors` beside this repository on our benchmark machines) and, in AE_ANCHORS_CACHE, the
// Python environment and data their run-peers.sh sets up once, offline.
import os from 'node:os';
import path from 'node:path';

export const anchors = path.resolve(
  process.env.AE_ANCHORS ?? path.join(import.meta.dirname, '../../../shared/anchors'),
);
export const anchorsCache =
  process.env.AE_ANCHORS_CACHE ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'ae-studio-anchors');
/** The Python of the peers' environment. */
export const anchorsPython = path.join(anchorsCache, 'venv/bin/python');
