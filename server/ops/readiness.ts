/**
 * /ready: the node accepts connections and its stores answer a read within a deadline: an account
 * (Cassandra in production) and an inbox version (Redis), so either one being down shows.
 */
import type { Stores } from '../../storage/ports.ts';
import { SYSTEM_USER } from '../logic/admin.ts';
import type { Readiness } from './admin-http.ts';

/** A store that does not answer a key read in this long counts as unreachable. */
const PROBE_TIMEOUT_MS = 1_000;

export async function readiness(stores: Pick<Stores, 'accounts' | 'inbox'>, draining: () => boolean): Promise<Readiness> {
  if (draining()) return { ready: false, reason: 'draining' };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), PROBE_TIMEOUT_MS)));
  try {
    const reads = Promise.all([stores.accounts.get(SYSTEM_USER), stores.inbox.position(SYSTEM_USER)]).then(() => 'ok' as const);
    const probe = await Promise.race([reads, timeout]);
    return probe === 'ok' ? { ready: true } : { ready: false, reason: `stores did not answer within ${PROBE_TIMEOUT_MS} ms` };
  } catch (error) {
    return { ready: false, reason: `stores failed: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
