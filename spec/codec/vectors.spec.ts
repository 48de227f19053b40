import assert from 'node:assert/strict';
import { encodeFrame, readBody } from '../../codec/index.ts';
import { Bodies, bodySchema, type BodyName } from '../../protocol/bodies.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { toJsonValue } from '../../protocol/vectors/json-value.ts';
import { decodeChunks, splitAt } from '../support/collect.ts';
import { badBodyVectors, frameVectors, malformedVectors } from '../support/vectors.ts';

describe('protocol test vectors', () => {
  it('covers every opcode that has a body, and at least one compressed frame', () => {
    const covered = new Set(frameVectors.map((v) => v.opcode));
    for (const name of Object.keys(Bodies)) assert.ok(covered.has(name), `no vector for ${name}`);
    assert.ok(frameVectors.some((v) => v.flags === 1), 'no LZ4-compressed vector');
  });

  for (const vector of frameVectors) {
    describe(vector.name, () => {
      const bytes = Buffer.from(vector.hex, 'hex');

      it('decodes to the header fields and body of the vector', () => {
        const { frames, error } = decodeChunks([bytes]);
        assert.equal(error, undefined);
        assert.equal(frames.length, 1);
        const frame = frames[0]!;
        assert.equal(frame.opcode, vector.opcodeValue);
        assert.equal(frame.requestId, vector.requestId);
        assert.equal(frame.flags, vector.flags);
        const schema = bodySchema(frame.opcode);
        assert.ok(schema);
        assert.deepEqual(toJsonValue(readBody(frame, schema)), vector.body);
      });

      it('re-encodes to the same bytes', () => {
        const name = vector.opcode as BodyName;
        const schema = Bodies[name];
        const body = readBody(decodeChunks([bytes]).frames[0]!, schema);
        const encoded = encodeFrame(Opcode[name], vector.requestId, schema, body as never);
        assert.equal(encoded.toString('hex'), vector.hex);
      });

      it('decodes the same when split at every byte boundary', () => {
        for (let cut = 1; cut < bytes.length; cut++) {
          const { frames, error } = decodeChunks(splitAt(bytes, [cut]));
          assert.equal(error, undefined, `cut at ${cut}`);
          assert.equal(frames.length, 1, `cut at ${cut}`);
          assert.ok(frames[0]!.body.equals(bytes.subarray(16)), `cut at ${cut}`);
        }
      });

      it('decodes the same when fed one byte at a time', () => {
        const ones = Array.from({ length: bytes.length }, (_, i) => i + 1).slice(0, -1);
        const { frames } = decodeChunks(splitAt(bytes, ones));
        assert.equal(frames.length, 1);
        assert.ok(frames[0]!.body.equals(bytes.subarray(16)));
      });
    });
  }

  describe('malformed headers', () => {
    for (const vector of malformedVectors) {
      it(`reports ${vector.error} for: ${vector.name}`, () => {
        const bytes = Buffer.from(vector.hex, 'hex');
        for (let cut = 1; cut <= bytes.length; cut++) {
          const { frames, error } = decodeChunks(splitAt(bytes, cut < bytes.length ? [cut] : []));
          assert.equal(frames.length, 0);
          assert.ok(error instanceof ProtocolError, `cut at ${cut}`);
          assert.equal(error.code, vector.error, `cut at ${cut}`);
        }
      });
    }

    it('stays failed after an error and reports the same error again', () => {
      const bad = Buffer.from(malformedVectors[0]!.hex, 'hex');
      const good = Buffer.from(frameVectors[0]!.hex, 'hex');
      const { decoder, error } = decodeChunks([bad]);
      const again = decoder.push(good, () => assert.fail('no frame after a framing error'));
      assert.equal(again, error);
      assert.equal(decoder.bufferedBytes, 0);
    });
  });

  describe('bad bodies', () => {
    for (const vector of badBodyVectors) {
      it(`frames fine, then rejects the body with ${vector.error}: ${vector.name}`, () => {
        const { frames, error } = decodeChunks([Buffer.from(vector.hex, 'hex')]);
        assert.equal(error, undefined);
        const frame = frames[0]!;
        const schema = bodySchema(frame.opcode);
        assert.ok(schema);
        assert.throws(() => readBody(frame, schema), (e: unknown) => e instanceof ProtocolError && e.code === vector.error);
      });
    }
  });
});
