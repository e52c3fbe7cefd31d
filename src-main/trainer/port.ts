// Hides the difference between a Node child process (`process.send`, used by tests, serve mode and
// CI) and an Electron utility process (`process.parentPort`, used by the desktop app), so the same
// entry.ts runs under both.

export interface ParentPort {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

interface UtilityParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

export function getParentPort(): ParentPort {
  const utility = (process as unknown as { parentPort?: UtilityParentPort }).parentPort;
  if (utility) {
    return {
      send: (m) => utility.postMessage(m),
      onMessage: (l) => utility.on('message', (e) => l(e.data)),
    };
  }
  if (typeof process.send === 'function') {
    return {
      send: (m) => process.send?.(m),
      onMessage: (l) => process.on('message', l),
    };
  }
  throw new Error('The trainer must be started by the studio host (no IPC channel to a parent process).');
}
