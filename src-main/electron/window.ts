// The studio window with every security default on, and navigation / new windows / webviews /
// permission requests refused.
import { BrowserWindow, session, shell } from 'electron';
import path from 'node:path';
import { preloadPath, windowOptions } from './decisions';
import { APP_ORIGIN, SECURE_WEB_PREFERENCES, isAllowedNavigation, isSafeExternalUrl } from './security';

export function lockDownSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

export function createMainWindow(preloadDir: string): BrowserWindow {
  const win = new BrowserWindow({
    ...windowOptions(),
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: preloadPath(preloadDir, path.join) },
  });
  const wc = win.webContents;
  wc.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  wc.on('will-navigate', (e, url) => {
    if (!isAllowedNavigation(url)) e.preventDefault();
  });
  wc.on('will-redirect', (e, url) => {
    if (!isAllowedNavigation(url)) e.preventDefault();
  });
  wc.on('will-attach-webview', (e) => e.preventDefault());
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}
