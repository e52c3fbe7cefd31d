// The names of every call and event between renderer and host, and nothing else.
// Kept free of the schema library so the sandboxed Electron preload can bundle it alone.
// `index.ts` declares one schema per name and the compiler checks they match.

/** Request/response calls, `domain:verb`. */
export const CALL_NAMES = [
  'app:info',
  'backend:info',
  'trainer:ping',
  'trainer:restart',
  'runs:start',
  'runs:stop',
  'runs:resume',
  'runs:list',
  'datasets:list',
  'datasets:addBuiltin',
  'datasets:preview',
  'datasets:rename',
  'datasets:delete',
  'datasets:import',
  'datasets:previewImport',
  'datasets:cancelImport',
  'datasets:uploadBegin',
  'datasets:uploadChunk',
  'gallery:triplets',
  'gallery:samples',
  'gallery:samplers',
  'gallery:chooseSampler',
  'gallery:worst',
  'gallery:latent',
  'gallery:manifold',
  'gallery:interpolate',
  'evaluate:run',
  'noise:preview',
  'workspace:info',
  'workspace:open',
  'settings:set',
  'export:model',
  'export:latents',
  'export:gallery',
  'export:list',
  'export:saveAs',
  'models:import',
  'models:speed',
  'jobs:export',
  'jobs:import',
  'jobs:progress',
  'datasets:uploadDiscard',
  'runs:update',
  'runs:preview',
  'runs:batchLoss',
  'gallery:try',
  'datasets:page',
  'datasets:removeImages',
  'inspect:images',
  'inspect:calibrate',
  'inspect:threshold',
  'inspect:try',
] as const;

/** Host -> renderer events, `domain:noun`. */
export const EVENT_NAMES = [
  'trainer:state',
  'app:notice',
  'runs:event',
  'runs:status',
  'datasets:importProgress',
  'datasets:importDone',
  'workspace:changed',
] as const;

export type CallName = (typeof CALL_NAMES)[number];
export type EventName = (typeof EVENT_NAMES)[number];

/** Electron IPC channel for an event (calls use their own name as channel). */
export const eventChannel = (name: EventName): string => `event:${name}`;
