/** A message's bytes are serialized once and spliced into its push body, byte for byte the whole entry's encoding. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Encoder } from '@msgpack/msgpack';
import { entryBytes, messageBytes, messageEncodes } from '../../codec/index.ts';
import { Bodies, Message, type MessageRecord } from '../../protocol/bodies.ts';

const independent = new Encoder();
const id = fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/);
const uint = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const message: fc.Arbitrary<MessageRecord> = fc.record(
  {
    messageId: id,
    conversationId: id,
    seq: uint,
    from: id,
    to: id,
    kind: fc.integer({ min: 0, max: 70_000 }),
    content: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 3000 })),
    sentAt: uint,
    clientMsgId: id,
    recalled: fc.boolean(),
  },
  { requiredKeys: ['messageId', 'conversationId', 'seq', 'from', 'to', 'kind', 'content', 'sentAt', 'clientMsgId'] },
);

describe('message bytes', () => {
  it('splices a push body equal to encoding the whole entry, for any message, actor and epoch', () => {
    fc.assert(
      fc.property(message, uint, fc.integer({ min: 0, max: 255 }), uint, fc.option(id, { nil: undefined }), fc.option(fc.stringMatching(/^[0-9a-f]{1,32}$/), { nil: undefined }), (m, version, type, seq, actor, epoch) => {
        const entry = { version, type, conversationId: m.conversationId, seq, message: m, ...(actor ? { actor } : {}), ...(epoch ? { epoch } : {}) };
        const whole = independent.encode(Bodies.push.toWire(entry));
        assert.deepEqual(new Uint8Array(entryBytes(entry)), whole);
        assert.deepEqual(new Uint8Array(messageBytes(m)), independent.encode(Message.toWire(m)));
      }),
      { numRuns: 300 },
    );
  });

  it('serializes a record once however many entries carry it', () => {
    const m: MessageRecord = { messageId: 'm1', conversationId: 'd:a:b', seq: 1, from: 'a', to: 'b', kind: 1, content: 'hello', sentAt: 5, clientMsgId: 'c1' };
    const before = messageEncodes();
    for (let version = 1; version <= 5; version++) entryBytes({ version, type: 1, conversationId: m.conversationId, seq: 1, message: m });
    messageBytes(m);
    assert.equal(messageEncodes() - before, 1);
    // An equal record in another object is serialized for itself: the bytes follow the object, not its value.
    messageBytes({ ...m });
    assert.equal(messageEncodes() - before, 2);
  });
});
