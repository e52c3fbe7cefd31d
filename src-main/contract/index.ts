// The contract: every call and event between the renderer and the host, declared once with its
// runtime schema (zod). Types are inferred from the schemas, so each shape is written once.
// The host validates every request against `calls[name].req` (src-main/host/dispatch.ts); the
// Electron preload and the serve-mode WebSocket are two transports of this same table.
// May import: the schema library only (docs/ARCHITECTURE.md, Layers; enforced by npm run lint).
import { z } from 'zod';
import { CALL_NAMES, EVENT_NAMES, type CallName, type EventName } from './names';
import { runCalls, runEvents } from './runs';
import { datasetCalls, datasetEvents } from './datasets';
import { galleryCalls } from './gallery';
import { evaluateCalls } from './evaluate';
import { noiseCalls } from './noise';
import { speedCalls } from './speed';
import { workspaceCalls, workspaceEvents } from './workspace';
import { exportCalls } from './export';
import { jobCalls } from './jobs';

export { CALL_NAMES, EVENT_NAMES, eventChannel, type CallName, type EventName } from './names';
export * from './runs';
export * from './datasets';
export * from './gallery';
export * from './evaluate';
export * from './noise';
export * from './workspace';
export * from './export';
export * from './jobs';
export * from './speed';
export * from './model-config';
export * from './inspection';
export * from './model-validate';
export * from './model-kinds';
export * from './model-summary';

const Empty = z.object({}).strict();

/** What the trainer process reports about its tfjs-node backend. */
export const BackendInfo = z.object({
  /** tfjs backend name; always `tensorflow` (the native binding). */
  backend: z.literal('tensorflow'),
  /** TensorFlow C library version the binding runs on, e.g. `2.21.0`. */
  tfVersion: z.string(),
  /** tfjs-node package version. */
  tfjsVersion: z.string(),
  /** Threads TensorFlow trains with: kernels side by side (inter-op) or one kernel over several (intra-op), whichever is more (engine/threads.ts). */
  threads: z.number().int().positive(),
  /** The trainer's process id. */
  pid: z.number().int().positive(),
});
export type BackendInfo = z.infer<typeof BackendInfo>;

/** The trainer process's life, as the host sees it. */
export const TrainerState = z.object({
  state: z.enum(['starting', 'ready', 'crashed', 'stopped']),
  /** Present once the trainer has reported its backend. */
  info: BackendInfo.optional(),
  /** Plain-words reason when `state` is `crashed`. */
  error: z.string().optional(),
  /** How many times the trainer has been (re)started in this session. */
  starts: z.number().int().nonnegative(),
  /** Epoch ms of the last change. */
  at: z.number(),
});
export type TrainerState = z.infer<typeof TrainerState>;

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  /** `electron` for the desktop window, `serve` for the headless browser studio, `cli` for `ae-studio`. */
  mode: z.enum(['electron', 'serve', 'cli']),
  platform: z.string(),
  nodeVersion: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

/** Every call: request schema, response schema, one line of doc. */
export const calls = {
  /** Name, version and mode of the studio. */
  'app:info': { req: Empty, res: AppInfo },
  /** The native backend the trainer runs on; waits for the trainer to be ready. */
  'backend:info': { req: Empty, res: BackendInfo },
  /** Round trip to the trainer process (health check). */
  'trainer:ping': {
    req: z.object({ nonce: z.string().min(1).max(64) }).strict(),
    res: z.object({ nonce: z.string(), pid: z.number().int(), uptimeMs: z.number() }),
  },
  /** Stop the trainer (if alive) and start a fresh one; resolves when it is ready. */
  'trainer:restart': { req: Empty, res: TrainerState },
  ...runCalls,
  ...datasetCalls,
  ...galleryCalls,
  ...evaluateCalls,
  ...noiseCalls,
  ...speedCalls,
  ...workspaceCalls,
  ...exportCalls,
  ...jobCalls,
} satisfies Record<CallName, { req: z.ZodType; res: z.ZodType }>;

/** A short message for the user (info / warning / error), shown in place by the renderer. */
export const Notice = z.object({
  level: z.enum(['info', 'warning', 'error']),
  message: z.string(),
  at: z.number(),
});
export type Notice = z.infer<typeof Notice>;

/** Every event the host pushes to the renderer. */
export const events = {
  /** The trainer process started, became ready, crashed or stopped. */
  'trainer:state': TrainerState,
  /** Something the user should read. */
  'app:notice': Notice,
  ...runEvents,
  ...datasetEvents,
  ...workspaceEvents,
} satisfies Record<EventName, z.ZodType>;

export type CallReq<N extends CallName> = z.input<(typeof calls)[N]['req']>;
export type CallRes<N extends CallName> = z.infer<(typeof calls)[N]['res']>;
export type EventPayload<N extends EventName> = z.infer<(typeof events)[N]>;

/** Error codes a call can fail with; the renderer maps them to plain words. */
export const ERROR_CODES = [
  /** The call's name is not in the contract. */
  'unknown_call',
  /** The request does not fit the call's schema, or what it names cannot be used (a layer a format cannot express, a file that is not an image…). */
  'invalid_payload',
  /** Something the request names does not exist (a run, a dataset, an export, an upload). */
  'not_found',
  /** The request clashes with what is going on (a run is already training, the trainer is busy). */
  'conflict',
  /** The disk (or the user's quota) is full; nothing half-written was kept. */
  'disk_full',
  /** Not allowed (a path outside the workspace, a missing token). */
  'forbidden',
  /** The trainer process is not running (crashed, stopped, could not start). */
  'trainer_unavailable',
  /** The connection between the window and the studio host dropped (serve mode). */
  'disconnected',
  /** The host or trainer took too long. */
  'timeout',
  /** A fault in the studio itself. */
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const HostError = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** For `invalid_payload`: which fields were wrong and why. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type HostError = z.infer<typeof HostError>;

/** What every call returns over every transport. */
export type Envelope<T = unknown> = { ok: true; result: T } | { ok: false; error: HostError };

/** Serve-mode WebSocket frames (JSON). */
export type ClientFrame = { id: number; call: string; payload: unknown };
export type ServerFrame = ({ id: number } & Envelope) | { event: EventName; payload: unknown };

export const isCallName = (s: unknown): s is CallName =>
  typeof s === 'string' && (CALL_NAMES as readonly string[]).includes(s);
export const isEventName = (s: unknown): s is EventName =>
  typeof s === 'string' && (EVENT_NAMES as readonly string[]).includes(s);
export * from './export-snippets';
