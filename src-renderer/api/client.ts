// The renderer's typed API client: `invoke` is typed by the contract and throws ApiError for
// host errors; `on` subscribes to a typed event. Works over any Transport.
import type { CallName, CallReq, CallRes, ErrorCode, EventName, EventPayload, HostError } from '@contract';
import type { ConnectionState, Transport } from './transport';

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly issues: HostError['issues'];
  constructor(error: HostError) {
    super(error.message);
    this.name = 'ApiError';
    this.code = error.code;
    this.issues = error.issues;
  }
}

export interface ApiClient {
  invoke<N extends CallName>(name: N, payload: CallReq<N>): Promise<CallRes<N>>;
  on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void): () => void;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  readonly connection: ConnectionState;
}

export function createClient(transport: Transport): ApiClient {
  return {
    async invoke(name, payload) {
      const envelope = await transport.invoke(name, payload);
      if (!envelope.ok) throw new ApiError(envelope.error);
      return envelope.result as never;
    },
    on(name, listener) {
      return transport.on(name, listener as (p: unknown) => void);
    },
    onConnection: (l) => transport.onConnection(l),
    get connection() {
      return transport.connection;
    },
  };
}

/** How each error code is worded in front of the host's message (the message alone where it says it all). */
const LEADS: Partial<Record<ErrorCode, { lead: string; unless: RegExp }>> = {
  disk_full: { lead: 'The disk is full', unless: /disk is full|no space left/i },
  timeout: { lead: 'The studio took too long to answer', unless: /too long|timed out/i },
  internal: { lead: 'Something went wrong inside the studio', unless: /^$/ },
};

/** Plain words for an error, whatever threw it; API errors are worded per code. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const l = LEADS[err.code];
    return l && !l.unless.test(err.message) ? `${l.lead}: ${err.message}` : err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
