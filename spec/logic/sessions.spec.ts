import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import { Logic } from '../../server/logic/logic.ts';
import { LocalRouting } from '../../server/routing/local.ts';
import type { Route } from '../../server/routing/port.ts';
import type { SessionInfo } from '../../server/seam.ts';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';
import { ManualClock } from '../support/server.ts';

/**
 * Routing as two nodes see it before either has learnt of the other's login: nothing is
 * replaced, so two connections can hold one token at once.
 */
class UnreplacingRouting extends LocalRouting {
  override async add(session: SessionInfo): Promise<Route[]> {
    await super.add(session);
    return [];
  }
}

describe('logout', () => {
  it('revokes the token and kicks every other connection that logged in with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tern-sessions-'));
    const stores = openEmbeddedStore({ path: dir });
    try {
      const logic = new Logic(stores, new ManualClock(), { auth: { passwords: { cost: 2 }, tokenTtlMs: 60_000 }, routing: new UnreplacingRouting() });
      const kicked: string[] = [];
      logic.attachGateway({ push: () => undefined, kick: (connectionId, body) => kicked.push(`${connectionId}:${body.reason}`), roomPublish: () => undefined });
      const client = (connectionId: string) => ({ connectionId, remoteAddress: '127.0.0.1:1', client: 'spec' });
      const first = await logic.register(client('c1'), { userId: 'ann', password: 'pw', deviceId: 'd', platform: 1 });
      await logic.login(client('c2'), { userId: 'ann', deviceId: 'd', platform: 1, token: first.reply.token });
      await logic.login(client('c3'), { userId: 'ann', deviceId: 'd', platform: 1, password: 'pw' });
      await logic.request(first.session, 'logout', {});
      assert.deepEqual(kicked, ['c2:3'], 'the connection with the same token, not the one with another token');
      await assert.rejects(logic.login(client('c4'), { userId: 'ann', deviceId: 'd', platform: 1, token: first.reply.token }), (e) => e instanceof ProtocolError && e.code === ErrorCode.badToken);
    } finally {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
