// Electron entry: registers the app:// scheme, locks the session down, starts the host and its
// trainer (utilityProcess), binds IPC and opens the window. Thin by design: all behaviour is in
// the host, which serve mode and the tests drive directly.
import { app, dialog, protocol, net, shell, type BrowserWindow } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../fs-safety/atomic';
import { pathToFileURL } from 'node:url';
import { createHost } from '../host';
import { TrainerSupervisor } from '../trainer/supervisor';
import { bindIpc } from './ipc';
import { createMainWindow, lockDownSession } from './window';
import { installMenu } from './menu';
import { utilitySpawner } from './trainer-spawn';
import { APP_SCHEME, CONTENT_SECURITY_POLICY, resolveAppFile } from './security';
import { pickDirectoryOptions, pickedDirectory, pickedSavePath, saveDialogOptions, trainerEntry } from './decisions';
import pkg from '../../package.json';

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

if (!app.requestSingleInstanceLock()) app.quit();

let win: BrowserWindow | undefined;
const rendererDir = path.join(__dirname, '..', 'dist-renderer');

app.whenReady().then(() => {
  lockDownSession();
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(rendererDir, request.url, path.join, path.sep);
    if (!file) return new Response('Forbidden', { status: 403 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });

  // In the packaged app the trainer entry sits beside this file in app.asar; tfjs-node's native
  // files are unpacked (electron-builder.yml asarUnpack) and found through Electron's asar shim.
  const trainer = new TrainerSupervisor({ spawn: utilitySpawner(trainerEntry(__dirname, path.join)) });
  // The last workspace opened (File > Open Workspace…) is remembered in userData/studio.json.
  const prefsFile = path.join(app.getPath('userData'), 'studio.json');
  const readPrefs = (): { workspace?: string } => {
    try {
      return JSON.parse(fs.readFileSync(prefsFile, 'utf8')) as { workspace?: string };
    } catch {
      return {};
    }
  };
  const defaultWorkspace = path.join(app.getPath('userData'), 'workspace');
  const remembered = readPrefs().workspace;
  const host = createHost({
    mode: 'electron',
    version: pkg.version,
    trainer,
    workspaceDir:
      remembered && path.isAbsolute(remembered) && fs.existsSync(remembered) ? remembered : defaultWorkspace,
    dialogs: {
      async pickDirectory(title) {
        return win ? pickedDirectory(await dialog.showOpenDialog(win, pickDirectoryOptions(title))) : undefined;
      },
      async pickSavePath(defaultName) {
        return win
          ? pickedSavePath(
              await dialog.showSaveDialog(win, saveDialogOptions(app.getPath('downloads'), defaultName, path.join)),
            )
          : undefined;
      },
    },
    onWorkspaceOpened(dir) {
      writeJsonAtomic(prefsFile, { ...readPrefs(), workspace: dir });
    },
  });
  trainer.start().catch(() => undefined); // reported through the trainer:state event
  bindIpc(host, () => win);
  // Menu actions go through the same contract calls as the UI; failures become notices in place.
  const viaHost = (name: 'workspace:open' | 'models:import' | 'jobs:import') => () =>
    void host.dispatch(name, {}).then((env) => {
      if (!env.ok) host.emit('app:notice', { level: 'error', message: env.error.message, at: Date.now() });
    });
  installMenu({
    openWorkspace: viaHost('workspace:open'),
    importModel: viaHost('models:import'),
    importJob: viaHost('jobs:import'),
    showWorkspace: () => void shell.openPath(host.workspaceDir()),
  });
  win = createMainWindow(__dirname);
  win.on('closed', () => (win = undefined));

  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('activate', () => {
    if (!win) win = createMainWindow(__dirname);
  });
  app.on('before-quit', () => void host.dispose());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
