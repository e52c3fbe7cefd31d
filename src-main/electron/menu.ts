// The application menu: standard roles plus the workspace actions, which call the host directly
// (no remote content, no custom IPC).
import { Menu, app, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openWorkspace(): void;
  importModel(): void;
  importJob(): void;
  showWorkspace(): void;
}

export function installMenu(actions: MenuActions): void {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Workspace…', accelerator: 'CmdOrCtrl+O', click: () => actions.openWorkspace() },
        { label: 'Show Workspace Folder', click: () => actions.showWorkspace() },
        { type: 'separator' },
        { label: 'Import TensorFlow.js Model…', click: () => actions.importModel() },
        { label: 'Import Trained Cluster Job…', click: () => actions.importJob() },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }, ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }])],
    },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
