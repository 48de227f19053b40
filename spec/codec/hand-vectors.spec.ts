/** Frames written out by hand from SPEC.md, not by the encoder under test, decoded by the server's codec. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies, type BodyName } from '../../protocol/bodies.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { Limits } from '../../protocol/timers.ts';

interface HandVector {
  name: string;
  bytes: string;
  opcode: BodyName;
  body?: unknown;
  error?: number;
}

const vectors = JSON.parse(readFileSync(new URL('../../protocol/vectors/hand-derived.json', import.meta.url), 'utf8')) as HandVector[];

/** Decodes as the server does for a client frame: the request size bounds the raw length. */
function decode(bytes: Buffer): Frame | ProtocolError {
  const frames: Frame[] = [];
  const error = new FrameDecoder({ maxRawBodySize: Limits.maxRequestSize }).push(bytes, (f) => frames.push(f));
  return error ?? (frames[0] as Frame);
}

describe('hand-derived vectors', () => {
  for (const vector of vectors) {
    it(vector.error ? `answers ${vector.error}: ${vector.name}` : `decodes: ${vector.name}`, () => {
      const bytes = Buffer.from(vector.bytes.replace(/[\s|]/g, ''), 'hex');
      assert.equal(bytes.readUInt32BE(0), bytes.length, 'the length field counts the whole frame');
      const frame = decode(bytes);
      if (frame instanceof ProtocolError) return assert.equal(frame.code, vector.error);
      assert.equal(frame.opcode, Opcode[vector.opcode]);
      let body: unknown;
      try {
        body = readBody(frame, Bodies[vector.opcode]);
      } catch (error) {
        assert.ok(error instanceof ProtocolError, String(error));
        return assert.equal(error.code, vector.error);
      }
      assert.equal(vector.error, undefined, 'expected an error');
      assert.deepEqual(body, vector.body);
    });
  }
});
