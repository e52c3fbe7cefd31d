// The sandboxed preload: exposes `window.studio` (see contract/bridge.ts) with one function per
// contract name, built from the name lists. Never exposes ipcRenderer itself (checklist #20).
// Bundled to one CommonJS file; imports only 'electron' and the contract's names.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { CALL_NAMES, EVENT_NAMES, eventChannel } from '../contract/names';

const calls = Object.fromEntries(
  CALL_NAMES.map((name) => [name, (payload: unknown) => ipcRenderer.invoke(name, payload)]),
);

const events = Object.fromEntries(
  EVENT_NAMES.map((name) => [
    name,
    (listener: (payload: unknown) => void) => {
      const handler = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
      ipcRenderer.on(eventChannel(name), handler);
      return () => {
        ipcRenderer.removeListener(eventChannel(name), handler);
      };
    },
  ]),
);

contextBridge.exposeInMainWorld('studio', {
  calls,
  events,
  getPathForFile: (file: File) => webUtils.getPathForFile(file),
});
