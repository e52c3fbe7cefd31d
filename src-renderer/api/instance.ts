// The one ApiClient the stores use; main.ts sets it at start-up, tests set an in-memory one.
import type { ApiClient } from './client';

let current: ApiClient | undefined;

export function setApi(client: ApiClient): void {
  current = client;
}

export function useApi(): ApiClient {
  if (!current) throw new Error('The API client is not set up (call setApi first).');
  return current;
}
