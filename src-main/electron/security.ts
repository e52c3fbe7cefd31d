// Electron security decisions as plain data and pure functions, so tests check them without an
// Electron binary (Electron's security checklist). Imports no 'electron'.
import { CSP } from '../host/csp';

/** The app's own origin: packaged files are served through the privileged `app://` scheme. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** The renderer's webPreferences: isolated, sandboxed, no Node, no webviews (checklist #2–4, #11). */
export const SECURE_WEB_PREFERENCES = Object.freeze({
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webviewTag: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  spellcheck: false,
});

/** Sent with every app:// response (checklist #7). The same policy serve mode sends. */
export const CONTENT_SECURITY_POLICY = CSP;

/** Navigation is allowed only inside the app's own origin (checklist #13). */
export function isAllowedNavigation(url: string): boolean {
  try {
    return new URL(url).origin === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`);
  } catch {
    return false;
  }
}

/** The parts of an IPC event's sender frame we check (checklist #17). */
export interface SenderFrameLike {
  url: string;
  /** True when the frame is the window's top-level frame. */
  isMainFrame: boolean;
}

/** Only the app's own top-level page may call the host. */
export function isTrustedSender(frame: SenderFrameLike | null | undefined): boolean {
  if (!frame || !frame.isMainFrame) return false;
  return isAllowedNavigation(frame.url);
}

/** Maps an app:// request path to a file inside `root`, or null if it would escape it (checklist #18). */
export function resolveAppFile(
  root: string,
  requestUrl: string,
  join: (...p: string[]) => string,
  sep: string,
): string | null {
  let pathname: string;
  try {
    const url = new URL(requestUrl);
    if (url.host !== APP_HOST) return null;
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  if (pathname.includes('\0') || pathname.split('/').includes('..')) return null;
  const file = join(root, ...pathname.split('/').filter(Boolean));
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : null;
}

/** External links open in the browser only when they are https (checklist #14, #15). */
export function isSafeExternalUrl(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}
