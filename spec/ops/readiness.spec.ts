import assert from 'node:assert/strict';
import type { Account, AccountStore, InboxStore } from '../../storage/ports.ts';
import { readiness } from '../../server/ops/readiness.ts';

function accounts(get: () => Promise<Account | undefined>, position: InboxStore['position'] = () => Promise.resolve({ version: 0, epoch: 'e' })): { accounts: AccountStore; inbox: InboxStore } {
  const unused = () => Promise.reject(new Error('not used by the probe'));
  return { accounts: { create: () => Promise.resolve(true), get }, inbox: { append: unused, read: unused, position, setCursor: unused, cursor: unused } };
}

describe('/ready', () => {
  it('is ready when the stores answer and the node is not draining', async () => {
    assert.deepEqual(await readiness(accounts(() => Promise.resolve(undefined)), () => false), { ready: true });
  });

  it('is not ready while draining, whatever the stores', async () => {
    assert.deepEqual(await readiness(accounts(() => Promise.resolve(undefined)), () => true), { ready: false, reason: 'draining' });
  });

  it('is not ready when a store read fails or does not answer within its deadline', async () => {
    const failed = await readiness(accounts(() => Promise.reject(new Error('connection refused'))), () => false);
    assert.equal(failed.ready, false);
    assert.match(failed.reason ?? '', /connection refused/);
    const hung = await readiness(accounts(() => new Promise(() => {})), () => false);
    assert.equal(hung.ready, false);
    assert.match(hung.reason ?? '', /did not answer/);
    const hotStateDown = await readiness(accounts(() => Promise.resolve(undefined), () => new Promise(() => {})), () => false);
    assert.equal(hotStateDown.ready, false, 'the inbox (Redis in production) is probed too');
  });
});
