// The shape the Electron preload exposes on `window.studio`: one function per contract name,
// built from the name lists (never a generic send/on; Electron's security checklist #20).
import type { CallName, CallReq, CallRes, Envelope, EventName, EventPayload } from './index';

export interface StudioBridge {
  /** One invoker per call; resolves with the host's envelope (never rejects for host errors). */
  calls: { [N in CallName]: (payload: CallReq<N>) => Promise<Envelope<CallRes<N>>> };
  /** One subscriber per event; returns an unsubscribe function. */
  events: { [N in EventName]: (listener: (payload: EventPayload<N>) => void) => () => void };
  /** Electron only: the absolute path of a dropped file (webUtils.getPathForFile). */
  getPathForFile: (file: File) => string;
}
