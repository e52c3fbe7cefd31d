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

/** Plain words for an error, whatever threw it. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
