// The Electron adapter's remaining decisions as pure functions, beside security.ts:
// window options, the menu template, the dialogs' options and results, and how the trainer
// utilityProcess is started. Imports only types from 'electron', so test/unit/main/electron
// checks every one without an Electron binary; window.ts, menu.ts, main.ts and trainer-spawn.ts
// only hand them to Electron.
import type { ForkOptions, MenuItemConstructorOptions, OpenDialogOptions, SaveDialogOptions } from 'electron';

/** Size and title of the studio window; webPreferences are added in window.ts (...SECURE_WEB_PREFERENCES). */
export function windowOptions(): {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  title: string;
  show: false;
} {
  // show: false — shown on 'ready-to-show', so the user never sees an empty frame.
  return { width: 1280, height: 820, minWidth: 900, minHeight: 600, title: 'Autoencoder Studio', show: false };
}

/** The preload script beside the main bundle. */
export function preloadPath(mainDir: string, join: (...p: string[]) => string): string {
  return join(mainDir, 'preload.cjs');
}

export interface MenuActions {
  openWorkspace(): void;
  importModel(): void;
  importJob(): void;
  showWorkspace(): void;
}

/**
 * The application menu: standard roles plus the workspace actions (which call the host directly:
 * no remote content, no custom IPC). The developer tools only in an unpackaged build.
 */
export function menuTemplate(
  env: { isMac: boolean; isPackaged: boolean },
  actions: MenuActions,
): MenuItemConstructorOptions[] {
  return [
    ...(env.isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Workspace…', accelerator: 'CmdOrCtrl+O', click: () => actions.openWorkspace() },
        { label: 'Show Workspace Folder', click: () => actions.showWorkspace() },
        { type: 'separator' },
        { label: 'Import TensorFlow.js Model…', click: () => actions.importModel() },
        { label: 'Import Trained Cluster Job…', click: () => actions.importJob() },
        { type: 'separator' },
        env.isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(env.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
      ],
    },
    { role: 'windowMenu' },
  ];
}

/** File › Open Workspace… and the import pickers: one folder, which may be created there. */
export function pickDirectoryOptions(title: string): OpenDialogOptions {
  return { title, properties: ['openDirectory', 'createDirectory'] };
}

/** Save as…: proposes the export's own name in the user's Downloads folder (a bare file name only). */
export function saveDialogOptions(
  downloadsDir: string,
  defaultName: string,
  join: (...p: string[]) => string,
): SaveDialogOptions {
  const name = defaultName.split(/[\\/]/).pop() || 'export';
  return { defaultPath: join(downloadsDir, name) };
}

/** The folder picked, or undefined when the dialog was cancelled or returned nothing. */
export function pickedDirectory(r: { canceled: boolean; filePaths: string[] }): string | undefined {
  return r.canceled || !r.filePaths[0] ? undefined : r.filePaths[0];
}

/** The path to save to, or undefined when cancelled. */
export function pickedSavePath(r: { canceled: boolean; filePath?: string }): string | undefined {
  return r.canceled || !r.filePath ? undefined : r.filePath;
}

/**
 * How the trainer utilityProcess is forked: no arguments, a service name the OS task manager
 * shows, stderr piped (the supervisor keeps its tail for error messages), and only the
 * environment the trainer needs (`env`, from trainerEnv()) — never NODE_OPTIONS or ELECTRON_*.
 */
export function trainerForkArgs(env: Record<string, string>): { args: string[]; options: ForkOptions } {
  const clean = Object.fromEntries(
    Object.entries(env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('ELECTRON_')),
  );
  return { args: [], options: { serviceName: 'Autoencoder Studio trainer', stdio: 'pipe', env: clean } };
}

/** Where the trainer bundle sits: beside the main bundle (inside app.asar when packaged). */
export function trainerEntry(mainDir: string, join: (...p: string[]) => string): string {
  return join(mainDir, 'trainer.cjs');
}
