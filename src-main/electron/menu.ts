// The application menu (template: decisions.ts menuTemplate): standard roles plus the workspace
// actions, which call the host directly (no remote content, no custom IPC).
import { Menu, app } from 'electron';
import { menuTemplate, type MenuActions } from './decisions';

export type { MenuActions };

export function installMenu(actions: MenuActions): void {
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(menuTemplate({ isMac: process.platform === 'darwin', isPackaged: app.isPackaged }, actions)),
  );
}
