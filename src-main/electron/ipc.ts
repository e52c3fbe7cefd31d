// Binds every contract call to ipcMain.handle and every host event to webContents.send.
// Each call checks its sender before the host's schema check (checklist #17). No other
// ipcMain use anywhere.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { CALL_NAMES, eventChannel } from '../contract';
import type { Host } from '../host';
import { isTrustedSender } from './security';

export function bindIpc(host: Host, getWindow: () => BrowserWindow | undefined): () => void {
  for (const name of CALL_NAMES) {
    ipcMain.handle(name, (event: IpcMainInvokeEvent, payload: unknown) => {
      const frame = event.senderFrame;
      // The top frame of our own window only (a top frame has no parent).
      const trusted =
        !!frame &&
        event.sender === getWindow()?.webContents &&
        isTrustedSender({ url: frame.url, isMainFrame: frame.parent === null });
      if (!trusted)
        return { ok: false, error: { code: 'forbidden', message: 'This caller may not use the studio API.' } };
      return host.dispatch(name, payload);
    });
  }
  const unsubscribe = host.subscribe((name, payload) => {
    const win = getWindow();
    if (win && !win.isDestroyed()) win.webContents.send(eventChannel(name), payload);
  });
  return () => {
    unsubscribe();
    for (const name of CALL_NAMES) ipcMain.removeHandler(name);
  };
}
