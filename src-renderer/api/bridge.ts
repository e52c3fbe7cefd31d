// Electron transport: the preload's `window.studio` (src-main/contract/bridge.ts).
import type { StudioBridge } from '@contract/bridge';
import type { CallName, EventName } from '@contract';
import type { Transport } from './transport';

export function bridgeTransport(bridge: StudioBridge): Transport {
  return {
    connection: 'connected',
    invoke: (name: CallName, payload: unknown) => (bridge.calls[name] as (p: unknown) => Promise<never>)(payload),
    on: (name: EventName, listener) => (bridge.events[name] as (l: (p: unknown) => void) => () => void)(listener),
    onConnection: () => () => undefined,
  };
}
