import assert from 'node:assert/strict';
import { FrameDecoder, readRawBody, type Frame } from '../../codec/index.ts';
import { bodySchema } from '../../protocol/bodies.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { frameVectors } from '../support/vectors.ts';
import { Prng } from '../support/prng.ts';

const FRAMES = 1_000_000;
const MAX_FRAME = 64 * 1024;
const MAX_CHUNK = 16 * 1024;

/** One fuzz input: a valid vector with a few bytes flipped, or bytes that are random throughout. */
function mutatedFrame(rng: Prng, seeds: Buffer[]): Buffer {
  const seed = seeds[rng.below(seeds.length)] as Buffer;
  if (rng.below(32) === 0) return rng.bytes(1 + rng.below(64));
  const frame = Buffer.from(seed);
  const flips = rng.below(3);
  for (let i = 0; i < flips; i++) frame[rng.below(frame.length)] = rng.next() & 0xff;
  return frame;
}

describe('decoder fuzzing', function () {
  this.timeout(120_000);

  it(`yields only frames or typed errors for ${FRAMES.toLocaleString('en')} random and mutated frames, with bounded memory`, () => {
    const rng = new Prng(20261129);
    const seeds = frameVectors.map((v) => Buffer.from(v.hex, 'hex'));
    let framesOut = 0;
    let framingErrors = 0;
    let bodyErrors = 0;
    let bodiesDecoded = 0;
    let maxBuffered = 0;

    const onFrame = (frame: Frame) => {
      framesOut++;
      try {
        const raw = readRawBody(frame);
        const schema = bodySchema(frame.opcode);
        if (schema) schema.check(raw, 'body');
        bodiesDecoded++;
      } catch (error) {
        assert.ok(error instanceof ProtocolError, `body decoding threw a non-protocol error: ${String(error)}`);
        bodyErrors++;
      }
    };

    // Each simulated connection carries a few frames in random-sized reads and ends at its first
    // framing error, as a server connection would.
    let fed = 0;
    while (fed < FRAMES) {
      const count = 1 + rng.below(8);
      const stream = Buffer.concat(Array.from({ length: count }, () => mutatedFrame(rng, seeds)));
      fed += count;
      const decoder = new FrameDecoder({ maxFrameSize: MAX_FRAME });
      const maxChunk = rng.below(2) === 0 ? 32 : MAX_CHUNK;
      for (let at = 0; at < stream.length; ) {
        const size = 1 + rng.below(maxChunk);
        const error = decoder.push(stream.subarray(at, at + size), onFrame);
        at += size;
        maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes);
        if (error) {
          assert.ok(error instanceof ProtocolError);
          framingErrors++;
          break;
        }
      }
    }

    assert.ok(framingErrors > 0 && bodyErrors > 0 && bodiesDecoded > 0, 'the fuzz input exercises every outcome');
    // Most mutations leave the length intact, so most inputs must come out as frames, not be swallowed.
    assert.ok(framesOut > FRAMES / 4, `only ${framesOut} frames came out`);
    console.log(`      frames out: ${bodiesDecoded} valid, ${bodyErrors} bad bodies; framing errors: ${framingErrors}; max buffered ${maxBuffered} B`);
    assert.ok(maxBuffered < MAX_FRAME + MAX_CHUNK, `decoder buffered ${maxBuffered} bytes`);
  });
});
