/** Reading replies of raw-frame requests in tests: the body on success, the error code otherwise. */
import assert from 'node:assert/strict';
import { readBody, type Frame } from '../../codec/index.ts';
import { Bodies, type BodyName, type BodyOf } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';

/** The reply body; fails the test with the error frame's code when the request was refused. */
export function replyOf<N extends BodyName>(frame: Frame, name: N): BodyOf<N> {
  if (frame.opcode === Opcode.error) {
    const error = readBody(frame, Bodies.error);
    assert.fail(`expected ${name}, got error ${error.code}: ${error.message}`);
  }
  assert.equal(frame.opcode, Opcode[name], `reply opcode for ${name}`);
  return readBody(frame, Bodies[name] as never) as BodyOf<N>;
}

/** The error code of a refused request, or 0 when it succeeded. */
export function errorCodeOf(frame: Frame): number {
  return frame.opcode === Opcode.error ? readBody(frame, Bodies.error).code : 0;
}
