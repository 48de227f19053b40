import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFrame, FrameDecoder, frameBytes, frameHeader, prepareBody, readBody, readRawBody } from '../../codec/index.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import { HEADER_SIZE } from '../../protocol/header.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { decodeChunks, splitAt } from '../support/collect.ts';
import { Prng } from '../support/prng.ts';
import { frameVectors } from '../support/vectors.ts';

const vectorBytes = frameVectors.map((v) => Buffer.from(v.hex, 'hex'));

describe('FrameDecoder', () => {
  it('hands out views without copying frames that arrive within one chunk', () => {
    const stream = Buffer.concat(vectorBytes);
    const { frames, decoder } = decodeChunks([stream]);
    assert.equal(frames.length, vectorBytes.length);
    assert.equal(decoder.stats.copiedFrames, 0);
    assert.equal(decoder.stats.copiedBytes, 0);
    for (const frame of frames) assert.equal(frame.body.buffer, stream.buffer, 'body is a view over the received chunk');
  });

  it('copies exactly the frames that span chunks', () => {
    const [a, b, c] = [vectorBytes[0]!, vectorBytes[1]!, vectorBytes[2]!];
    const stream = Buffer.concat([a, b, c]);
    // Cut inside the second frame only.
    const { frames, decoder } = decodeChunks(splitAt(stream, [a.length + 3]));
    assert.equal(frames.length, 3);
    assert.equal(decoder.stats.copiedFrames, 1);
    assert.equal(decoder.stats.copiedBytes, b.length);
  });

  it('rejects an oversized frame from its first four bytes, before the rest arrives', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025);
    const error = decoder.push(header, () => assert.fail('no frame expected'));
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.code, ErrorCode.frameTooLarge);
  });

  it('rejects a bad version, flag or raw length at 16 bytes, before the body arrives', () => {
    const cases: [number, number, number, number][] = [
      [2, 0, 0, ErrorCode.badVersion],
      [1, 0x80, 0, ErrorCode.badFlags],
      [1, 0, 5, ErrorCode.badFlags],
      [1, 1, 1 << 30, ErrorCode.badCompression],
    ];
    for (const [version, flags, rawLength, code] of cases) {
      const header = Buffer.alloc(HEADER_SIZE);
      header.writeUInt32BE(1000);
      header[4] = version;
      header[5] = flags;
      header.writeUInt16BE(Opcode.send, 6);
      header.writeUInt32BE(rawLength, 12);
      const decoder = new FrameDecoder();
      const error = decoder.push(header.subarray(0, 9), () => assert.fail('no frame expected')) ?? decoder.push(header.subarray(9), () => assert.fail('no frame expected'));
      assert.equal(error?.code, code);
    }
  });

  it('assembles a 300 KB frame written one byte per chunk in linear time, into one buffer', () => {
    const frame = frameBytes(Opcode.send, 3, Buffer.alloc(300_000 - HEADER_SIZE, 0x61), { compressThreshold: Infinity });
    const decoder = new FrameDecoder();
    const frames: Buffer[] = [];
    const started = performance.now();
    for (let i = 0; i < frame.length; i++) decoder.push(frame.subarray(i, i + 1), (f) => frames.push(f.body));
    const ms = performance.now() - started;
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.equals(frame.subarray(HEADER_SIZE)));
    assert.equal(decoder.stats.copiedBytes, frame.length, 'each byte copied once');
    assert.ok(ms < 1_000, `took ${ms.toFixed(0)} ms`);
  });

  it('round-trips any sequence of frames under any chunking (property)', () => {
    const frameArb = fc.record({
      opcode: fc.constantFrom(...Object.values(Opcode)),
      requestId: fc.integer({ min: 0, max: 0xffffffff }),
      body: fc.uint8Array({ maxLength: 3000 }),
      compressible: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (specs, rawCuts) => {
        const encoded = specs.map((s) => {
          const body = s.compressible ? Buffer.alloc(s.body.length * 3, Buffer.from(s.body.length ? s.body : [7])) : Buffer.from(s.body);
          return { spec: s, body, bytes: frameBytes(s.opcode, s.requestId, body, { compressThreshold: 64 }) };
        });
        const stream = Buffer.concat(encoded.map((e) => e.bytes));
        const cuts = [...new Set(rawCuts.map((c) => c % stream.length).filter((c) => c > 0))].sort((x, y) => x - y);
        const { frames, error } = decodeChunks(splitAt(stream, cuts));
        assert.equal(error, undefined);
        assert.equal(frames.length, encoded.length);
        frames.forEach((frame, i) => {
          const expected = encoded[i]!;
          assert.equal(frame.opcode, expected.spec.opcode);
          assert.equal(frame.requestId, expected.spec.requestId);
          assert.ok(frame.body.equals(expected.bytes.subarray(HEADER_SIZE)));
        });
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('restores compressed bodies exactly (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40 }), { maxLength: 200 }), (words) => {
        const body = { entries: [], hasMore: words.length > 3, lastVersion: words.length, latestVersion: words.join(' ').length };
        const frame = encodeFrame(Opcode.syncPage, 9, Bodies.syncPage, body, { compressThreshold: 16 });
        const decoded = decodeChunks([frame]).frames[0]!;
        assert.deepEqual(readBody(decoded, Bodies.syncPage), body);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});

describe('FrameEncoder', () => {
  it('compresses a body above the threshold and records its raw length in the header', () => {
    const body = { entries: [], hasMore: false, lastVersion: 1, latestVersion: 1 };
    const big = Buffer.alloc(4096, 'a');
    const frame = frameBytes(Opcode.syncPage, 1, big);
    assert.equal(frame[5], 1, 'LZ4 flag');
    assert.equal(frame.readUInt32BE(12), big.length);
    assert.ok(frame.length < big.length / 4);
    const small = encodeFrame(Opcode.syncPage, 1, Bodies.syncPage, body);
    assert.equal(small[5], 0, 'small bodies stay uncompressed');
  });

  it('keeps incompressible bodies uncompressed', () => {
    const noise = new Prng(1).bytes(4096);
    const frame = frameBytes(Opcode.syncPage, 1, noise);
    assert.equal(frame[5], 0);
    assert.equal(frame.readUInt32BE(12), 0);
    assert.ok(frame.subarray(HEADER_SIZE).equals(noise));
  });

  it('frames one prepared body for many receivers with their own request ids', () => {
    const entry = JSON.parse(JSON.stringify(readRawBody(decodeChunks([vectorBytes[12]!]).frames[0]!))) as unknown;
    const prepared = prepareBody(Bodies.push, Bodies.push.check(entry, 'body'));
    const frames = [1, 2, 3].map((sid) => Buffer.concat([frameHeader(Opcode.push, sid, prepared), prepared.bytes]));
    const { frames: decoded } = decodeChunks([Buffer.concat(frames)]);
    assert.deepEqual(decoded.map((f) => f.requestId), [1, 2, 3]);
    for (const f of decoded) assert.deepEqual(readBody(f, Bodies.push), Bodies.push.check(entry, 'body'));
  });
});
