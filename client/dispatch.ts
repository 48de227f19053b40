/**
 * Asks a dispatch listener where to connect before connecting: the first endpoint is the one to
 * try, the others are the client's alternates (ClientOptions.endpoint and alternateEndpoints).
 */
import type { Endpoint } from './transport.ts';

export interface Dispatched {
  readonly host: string;
  readonly port: number;
  readonly tlsPort?: number;
}

export async function dispatch(baseUrl: string, userId: string, timeoutMs = 5_000): Promise<Dispatched[]> {
  const url = new URL('/dispatch', baseUrl);
  url.searchParams.set('user', userId);
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await response.json()) as { endpoints?: unknown };
  if (!Array.isArray(body.endpoints)) throw new Error(`dispatch answered ${response.status} without endpoints`);
  const out: Dispatched[] = [];
  for (const e of body.endpoints as unknown[]) {
    const { host, port, tlsPort } = (e ?? {}) as Record<string, unknown>;
    if (typeof host !== 'string' || typeof port !== 'number') throw new Error('dispatch answered a malformed endpoint');
    out.push({ host, port, ...(typeof tlsPort === 'number' ? { tlsPort } : {}) });
  }
  return out;
}

/** The endpoints as the SDK takes them, plain TCP. */
export function tcpEndpoints(dispatched: readonly Dispatched[]): Endpoint[] {
  return dispatched.map((d) => ({ host: d.host, port: d.port }));
}
