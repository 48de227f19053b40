import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Logic } from '../../server/logic/logic.ts';
import type { SessionInfo } from '../../server/seam.ts';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';
import { directConversationId } from '../../server/logic/ids.ts';
import { ManualClock } from '../support/server.ts';

const USERS = ['ann', 'ben', 'cat', 'dan'];

type Op = { kind: 'send'; from: number; to: number } | { kind: 'read'; reader: number; peer: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), from: fc.nat(3), to: fc.nat(3) }).filter((o) => o.from !== o.to),
  fc.record({ kind: fc.constant('read' as const), reader: fc.nat(3), peer: fc.nat(3) }).filter((o) => o.reader !== o.peer),
);

describe('unread counts (property)', function () {
  this.timeout(120_000);

  it('keeps each total equal to the sum of its conversations, and each count equal to the unread incoming messages, under concurrent sends and reads', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), async (rounds) => {
        const dir = mkdtempSync(join(tmpdir(), 'tern-unread-'));
        const stores = openEmbeddedStore({ path: dir });
        const logic = new Logic(stores, new ManualClock(), { auth: { passwords: { cost: 2 }, tokenTtlMs: 1000 } });
        try {
          const sessions: SessionInfo[] = [];
          for (const [i, userId] of USERS.entries()) {
            const { session } = await logic.register({ connectionId: `c${i}`, remoteAddress: '-', client: 'spec' }, { userId, password: 'pw', deviceId: 'd', platform: 1 });
            sessions.push(session);
          }
          let n = 0;
          for (const round of rounds) {
            // Each round's operations run concurrently.
            await Promise.all(
              round.map(async (op) => {
                if (op.kind === 'send') {
                  await logic.request(sessions[op.from]!, 'send', { clientMsgId: `m${n++}`, to: USERS[op.to]!, kind: 1, content: 'x' });
                  return;
                }
                const conversationId = directConversationId(USERS[op.reader]!, USERS[op.peer]!);
                const state = await stores.conversations.get(USERS[op.reader]!, conversationId);
                if (state) await logic.request(sessions[op.reader]!, 'markRead', { conversationId, seq: state.lastSeq });
              }),
            );
          }
          for (const userId of USERS) {
            const { items, totalUnread } = await stores.conversations.list(userId, 100);
            assert.equal(totalUnread, items.reduce((sum, c) => sum + c.unread, 0), `total of ${userId}`);
            for (const c of items) {
              const page = await stores.history.page(c.conversationId, undefined, 1000);
              const expected = page.messages.filter((m) => m.from === c.peer && m.seq > c.readSeq).length;
              assert.equal(c.unread, expected, `${userId} in ${c.conversationId}`);
            }
          }
        } finally {
          await stores.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40, seed: 11 },
    );
  });
});
