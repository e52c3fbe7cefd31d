// The workspace over the contract: which folder the studio works in, what it holds,
// which items could not be read (flagged, never deleted), and the user's settings, which live in
// the workspace too (settings.json).
import { z } from 'zod';

/** An absolute path typed or picked by the user; NUL bytes and relative paths are refused. */
export const AbsolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot contain NUL bytes')
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\'), 'give an absolute path');

const Theme = z.enum(['system', 'light', 'dark']);
const MaxConcurrentRuns = z.number().int().min(1).max(4);

/**
 * The Model view's configuration being edited (dataset, images, preset and every field), kept in
 * the workspace so a reload or a restart finds it as it was left. The renderer checks each field
 * again when it restores it; unknown or wrong ones are ignored.
 */
export const ModelDraft = z
  .object({
    /** `builtin:mnist` or a stored dataset's id. */
    dataset: z.string().max(80),
    count: z.number().int().min(0).max(100_000_000),
    presetId: z.string().max(40).optional(),
    form: z
      .record(
        z.string().max(40),
        z.union([
          z.string().max(400),
          z.number(),
          z.boolean(),
          z.array(z.number().int()).max(10_000),
          z.record(z.string().max(40), z.union([z.string().max(40), z.number(), z.boolean()])),
        ]),
      )
      .refine((f) => Object.keys(f).length <= 40, 'at most 40 fields'),
  })
  .strict();
export type ModelDraft = z.infer<typeof ModelDraft>;

export const Settings = z
  .object({
    /** Colour theme; `system` follows the OS. */
    theme: Theme.default('system'),
    /** How many runs train at once; further runs wait in a queue. */
    maxConcurrentRuns: MaxConcurrentRuns.default(2),
    /** The Model view's configuration as it was last left. */
    modelDraft: ModelDraft.optional(),
  })
  .strict();
/** A change to some settings (no defaults: what is absent stays as it is). */
export const SettingsPatch = z
  .object({
    theme: Theme.optional(),
    maxConcurrentRuns: MaxConcurrentRuns.optional(),
    modelDraft: ModelDraft.optional(),
  })
  .strict();
export type Settings = z.infer<typeof Settings>;

/** Something in the workspace the studio could not use; it is left on disk untouched. */
export const FlaggedItem = z.object({
  /** Path relative to the workspace, e.g. `runs/run-x/run.json`. */
  item: z.string(),
  message: z.string(),
});
export type FlaggedItem = z.infer<typeof FlaggedItem>;

export const WorkspaceInfo = z.object({
  path: z.string(),
  /** Version of the workspace layout (workspace.json). */
  schemaVersion: z.number().int(),
  datasets: z.number().int(),
  runs: z.number().int(),
  exports: z.number().int(),
  flagged: z.array(FlaggedItem),
  settings: Settings,
  /** Whether the host can show a native folder dialog (desktop app). */
  nativeDialogs: z.boolean(),
});
export type WorkspaceInfo = z.infer<typeof WorkspaceInfo>;

export const workspaceCalls = {
  /** The open workspace: path, counts, flagged items and settings. */
  'workspace:info': { req: z.object({}).strict(), res: WorkspaceInfo },
  /**
   * Opens (creating if needed) another workspace folder. Without `path` the desktop app shows a
   * native folder dialog (`cancelled` when the user closes it). Refused while a run trains.
   */
  'workspace:open': {
    req: z.object({ path: AbsolutePath.optional() }).strict(),
    res: z.object({ cancelled: z.boolean(), info: WorkspaceInfo }),
  },
  /** Changes some settings; returns all of them. */
  'settings:set': { req: SettingsPatch, res: Settings },
};

export const workspaceEvents = {
  /** Another workspace was opened (or the settings changed): reload what depends on it. */
  'workspace:changed': WorkspaceInfo,
};
