import assert from 'node:assert/strict';
import { GROUP_EVENT_KIND_BASE } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { ContentFilter } from '../../server/logic/content-filter/content-filter.ts';
import { errorCodeOf, replyOf } from '../support/group-calls.ts';
import { useInProcessServer } from '../support/fixtures.ts';
import type { RawDevice } from '../support/raw-device.ts';
import { waitUntil } from '../support/server.ts';

/** Group posts pass the check 1:1 sends pass: operator sanctions and the content filter. */
describe('the pre-send check on group posts', function () {
  this.timeout(30_000);
  const local = useInProcessServer();

  async function team(filter?: ContentFilter): Promise<{ alice: RawDevice; bob: RawDevice; groupId: string; pushed: string[] }> {
    await local.start(filter ? { contentFilter: filter } : {});
    const alice = await local.device('alice');
    const bob = await local.device('bob');
    const { groupId } = replyOf(await alice.call('groupCreate', { name: 'team', members: ['bob'] }), 'groupInfo');
    const pushed: string[] = [];
    bob.onPush = (entry) => entry.message && entry.message.kind < GROUP_EVENT_KIND_BASE && pushed.push(entry.message.content);
    return { alice, bob, groupId, pushed };
  }

  const post = (d: RawDevice, groupId: string, clientMsgId: string, content: string, kind = 1) => d.call('groupSend', { groupId, clientMsgId, kind, content });

  it('refuses a muted user\'s post with 3002, and a media post of a text-only user, like a 1:1 send', async () => {
    const { alice, groupId } = await team();
    const now = Date.now();
    await local.server.stores.moderation.set('alice', { mutedUntil: now + 600_000, textOnlyUntil: 0 });
    assert.equal(errorCodeOf(await post(alice, groupId, 'm1', 'hello')), ErrorCode.forbidden);
    await local.server.stores.moderation.set('alice', { mutedUntil: 0, textOnlyUntil: now + 600_000 });
    assert.equal(errorCodeOf(await post(alice, groupId, 'm2', 'https://x/y.png', 2)), ErrorCode.forbidden);
    assert.equal(errorCodeOf(await post(alice, groupId, 'm3', 'text')), 0, 'text is allowed');
    const timeline = await local.server.stores.groups!.timeline(groupId, 0, 50);
    assert.deepEqual(timeline.filter((m) => m.kind < GROUP_EVENT_KIND_BASE).map((m) => m.content), ['text'], 'nothing refused is stored');
  });

  it('masks a listed word under replace, in the stored post and the push', async () => {
    const { alice, groupId, pushed } = await team(new ContentFilter('replace', ['spam', '敏感词']));
    assert.equal(errorCodeOf(await post(alice, groupId, 'f1', 'no spam, 没有敏感词')), 0);
    await waitUntil(() => pushed.length === 1, 'bob gets the post');
    assert.deepEqual(pushed, ['no ****, 没有***']);
    const timeline = await local.server.stores.groups!.timeline(groupId, 0, 50);
    assert.deepEqual(timeline.filter((m) => m.kind < GROUP_EVENT_KIND_BASE).map((m) => m.content), ['no ****, 没有***']);
  });

  it('refuses a post holding a listed word with 3003 under reject, and stores nothing', async () => {
    const { alice, groupId } = await team(new ContentFilter('reject', ['spam']));
    assert.equal(errorCodeOf(await post(alice, groupId, 'r1', 'buy SPAM')), ErrorCode.contentRejected);
    assert.equal(errorCodeOf(await post(alice, groupId, 'r2', 'clean')), 0);
    const timeline = await local.server.stores.groups!.timeline(groupId, 0, 50);
    assert.deepEqual(timeline.filter((m) => m.kind < GROUP_EVENT_KIND_BASE).map((m) => m.content), ['clean']);
  });
});
