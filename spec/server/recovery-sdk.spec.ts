/** The SDK recovers when its inbox position is not the server's (SPEC §11.6), against the embedded store. */
import assert from 'node:assert/strict';
import type { MessageRecord } from '../../protocol/bodies.ts';
import { startTestServer, waitUntil, type TestServer } from '../support/server.ts';

describe('SDK recovery from a lost inbox position', function () {
  this.timeout(30_000);
  let server: TestServer;
  afterEach(async () => server?.stop());

  it('reads history back from the seq it knew, shows each message once in seq order, then syncs the server’s epoch and goes on by push', async () => {
    server = await startTestServer();
    const ann = server.client('ann');
    const ben = server.client('ben');
    await Promise.all([ann.connect(), ben.connect()]);
    const acks = [];
    for (let i = 0; i < 8; i++) acks.push(await ann.send('ben', `#${i}`));
    const conversationId = acks[0]!.conversationId;
    ben.close();

    // The tablet's app kept a position of an epoch the server no longer has, ahead of its versions,
    // and had shown the conversation up to seq 3.
    const tablet = server.client('ben', { register: false, deviceId: 'ben-tablet', version: 40, epoch: 'gone-with-redis', conversationSeqs: { [conversationId]: 3 } });
    const shown: MessageRecord[] = [];
    const statuses: string[] = [];
    const errors: Error[] = [];
    tablet.on('message', (m) => shown.push(m));
    tablet.on('status', (s) => statuses.push(s));
    tablet.on('syncError', (e) => errors.push(e));
    await tablet.connect();
    const { epoch, version } = await server.stores.inbox.position('ben');
    assert.deepEqual(shown.map((m) => m.seq), [4, 5, 6, 7, 8]);
    assert.deepEqual(statuses, ['connecting', 'ready', 'recovering', 'ready']);
    assert.deepEqual({ epoch: tablet.inboxEpoch, version: tablet.inboxVersion }, { epoch, version });
    assert.deepEqual(tablet.conversationSeqs, { [conversationId]: 8 });

    await ann.send('ben', 'after');
    await waitUntil(() => shown.length === 6, 'the live message');
    assert.deepEqual(shown.map((m) => m.seq), [4, 5, 6, 7, 8, 9]);
    assert.equal(tablet.inboxVersion, version + 1, 'the push applied by version in the new epoch');
    assert.deepEqual(errors, []);
  });

  it('leaves a device whose position is the server’s alone: no recovery, only the entry it lacks', async () => {
    server = await startTestServer();
    const ann = server.client('ann');
    const ben = server.client('ben');
    await Promise.all([ann.connect(), ben.connect()]);
    await ann.send('ben', 'one');
    await waitUntil(() => ben.inboxVersion === 1, 'the push');
    const state = { version: ben.inboxVersion, epoch: ben.inboxEpoch, conversationSeqs: ben.conversationSeqs };
    ben.close();
    await ann.send('ben', 'two');
    const again = server.client('ben', { register: false, ...state, ...(state.epoch ? { epoch: state.epoch } : {}) });
    const statuses: string[] = [];
    const shown: string[] = [];
    again.on('status', (s) => statuses.push(s));
    again.on('message', (m) => shown.push(m.content));
    await again.connect();
    assert.deepEqual(statuses, ['connecting', 'ready']);
    assert.deepEqual(shown, ['two']);
  });
});
