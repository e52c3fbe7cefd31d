// What the API client needs from a transport: send one call and get the host's envelope back,
// and subscribe to events. Electron's preload bridge and the serve-mode WebSocket both provide it.
import type { CallName, Envelope, EventName } from '@contract';

export type ConnectionState = 'connected' | 'connecting' | 'disconnected' | 'no-token';

export interface Transport {
  /** Sends a call; resolves with the host's envelope. Rejects only if the transport itself fails. */
  invoke(name: CallName, payload: unknown): Promise<Envelope>;
  /** Subscribes to one event; returns an unsubscribe function. */
  on(name: EventName, listener: (payload: unknown) => void): () => void;
  /** Connection state changes (the bridge is always connected). */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  readonly connection: ConnectionState;
}
