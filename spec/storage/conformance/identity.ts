/** Accounts, tokens, dedup records, hidden messages and durable(). */
import assert from 'node:assert/strict';
import type { Account, DedupRecord } from '../../../storage/ports.ts';
import type { Harness } from '../conformance.ts';
import { T0, message, range } from './fixtures.ts';

function account(userId: string, salt = 's1'): Account {
  return { userId, salt, passwordHash: `h-${salt}`, createdAt: T0 };
}

export function describeIdentity(h: Harness): void {
  describe('accounts', () => {
    it('creates an account once and reads it back', async () => {
      const { accounts } = await h.open();
      assert.equal(await accounts.create(account('ann')), true);
      assert.deepEqual(await accounts.get('ann'), account('ann'));
      assert.equal(await accounts.get('ben'), undefined);
    });

    it('returns false when the user id is taken, and keeps the first account', async () => {
      const { accounts } = await h.open();
      assert.equal(await accounts.create(account('ann', 'first')), true);
      assert.equal(await accounts.create(account('ann', 'second')), false);
      assert.equal((await accounts.get('ann'))?.salt, 'first');
    });

    it('lets exactly one of many concurrent creates of one user id win', async () => {
      const { accounts } = await h.open();
      const results = await Promise.all(range(8).map((i) => accounts.create(account('cat', `try-${i}`))));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await accounts.get('cat'))?.salt, `try-${winner}`);
    });
  });

  describe('tokens', () => {
    const record = { userId: 'ann', deviceId: 'phone', expiresAt: Date.now() + 3_600_000 };

    it('stores a token record by hash and reads it back', async () => {
      const { tokens } = await h.open();
      await tokens.put('hash-1', record);
      assert.deepEqual(await tokens.get('hash-1'), record);
      assert.equal(await tokens.get('hash-2'), undefined);
    });

    it('forgets a revoked token, and revoking an unknown one is harmless', async () => {
      const { tokens } = await h.open();
      await tokens.put('hash-1', record);
      await tokens.put('hash-2', { ...record, deviceId: 'laptop' });
      await tokens.revoke('hash-1');
      await tokens.revoke('never-issued');
      assert.equal(await tokens.get('hash-1'), undefined);
      assert.equal((await tokens.get('hash-2'))?.deviceId, 'laptop');
    });
  });

  describe('dedup', () => {
    const first: DedupRecord = { messageId: 'm1', conversationId: 'p:ann:ben', seq: 7, sentAt: T0 };

    it('answers undefined for an unknown client message id, and the stored record otherwise', async () => {
      const { dedup } = await h.open();
      assert.equal(await dedup.get('ann', 'c1'), undefined);
      await dedup.put('ann', 'c1', first);
      assert.deepEqual(await dedup.get('ann', 'c1'), first);
      assert.equal(await dedup.get('ben', 'c1'), undefined, 'client ids are per user');
    });

    it('claims a client message id once among concurrent claims, answering the others with the winner', async () => {
      const { dedup } = await h.open();
      const claims = await Promise.all([1, 2, 3, 4, 5].map((seq) => dedup.claim('ann', 'c9', { ...first, seq })));
      const winners = claims.filter((c) => c === undefined).length;
      assert.equal(winners, 1, 'exactly one claim stores its record');
      const stored = await dedup.get('ann', 'c9');
      assert.ok(stored);
      for (const answer of claims) if (answer) assert.deepEqual(answer, stored, 'the others are told what was stored');
      assert.deepEqual(await dedup.claim('ann', 'c9', { ...first, seq: 99 }), stored, 'a later claim does not replace it');
    });

    it('replaces a half-stored record with the complete one', async () => {
      const { dedup } = await h.open();
      await dedup.put('ann', 'c1', first);
      await dedup.put('ann', 'c1', { ...first, version: 12 });
      assert.deepEqual(await dedup.get('ann', 'c1'), { ...first, version: 12 });
    });
  });

  describe('hidden messages', () => {
    it('hides one message for one user only', async () => {
      const { hidden } = await h.open();
      await hidden.hide('ann', 'p:ann:ben', 3);
      assert.equal(await hidden.isHidden('ann', 'p:ann:ben', 3), true);
      assert.equal(await hidden.isHidden('ann', 'p:ann:ben', 4), false);
      assert.equal(await hidden.isHidden('ben', 'p:ann:ben', 3), false);
      assert.equal(await hidden.isHidden('ann', 'p:ann:cat', 3), false);
    });
  });

  describe('durable()', () => {
    it('resolves with nothing written', async () => {
      const stores = await h.open();
      await stores.durable();
    });

    it('resolves once the writes issued before it are in effect: reads after it see every one', async () => {
      const stores = await h.open();
      const c = 'p:ann:ben';
      const writes = [
        stores.history.put(message(c, 1)),
        stores.inbox.append('ben', { type: 1, conversationId: c, seq: 1, message: message(c, 1) }),
        stores.conversations.recordMessage('ben', 'ann', message(c, 1), true),
        stores.dedup.put('ann', 'c-1', { messageId: 'm1', conversationId: c, seq: 1, sentAt: T0 }),
        stores.hidden.hide('ann', c, 1),
        stores.inbox.setCursor('ben', 'phone', 1),
      ];
      await stores.durable();
      // Read before awaiting the writes themselves: durable() alone must be enough.
      assert.equal((await stores.history.get(c, 1))?.content, message(c, 1).content);
      assert.equal((await stores.inbox.read('ben', 0, 10)).entries.length, 1);
      assert.equal((await stores.conversations.get('ben', c))?.unread, 1);
      assert.equal((await stores.dedup.get('ann', 'c-1'))?.seq, 1);
      assert.equal(await stores.hidden.isHidden('ann', c, 1), true);
      assert.equal(await stores.inbox.cursor('ben', 'phone'), 1);
      await Promise.all(writes);
    });
  });
}
