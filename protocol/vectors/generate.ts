/**
 * Writes the JSON test vectors from samples.ts. Run with `npm run vectors` after a deliberate
 * protocol change; the committed JSON is the contract that the tests (and other implementations)
 * check against.
 */
import { writeFileSync } from 'node:fs';
import { Bodies } from '../bodies.ts';
import { Opcode } from '../opcodes.ts';
import { encodeFrame } from '../../codec/frame-encoder.ts';
import { toJsonValue } from './json-value.ts';
import { badBodies, malformed, samples, type RawFrame } from './samples.ts';
import { rawFrameHex } from './raw-frame.ts';

const here = new URL('.', import.meta.url);

function write(file: string, value: unknown): void {
  writeFileSync(new URL(file, here), `${JSON.stringify(value, null, 2)}\n`);
}

const frames = samples.map((sample) => {
  const schema = Bodies[sample.opcode];
  const bytes = encodeFrame(Opcode[sample.opcode], sample.requestId, schema, sample.body as never);
  return {
    name: sample.name,
    opcode: sample.opcode,
    opcodeValue: Opcode[sample.opcode],
    requestId: sample.requestId,
    flags: bytes[5],
    hex: bytes.toString('hex'),
    body: toJsonValue(sample.body),
    wire: toJsonValue(schema.toWire(sample.body as never)),
  };
});

const errorsOf = (list: { name: string; frame: RawFrame; error: number }[]) =>
  list.map(({ name, frame, error }) => ({ name, hex: rawFrameHex(frame), error }));

write('frames.json', frames);
write('malformed.json', errorsOf(malformed));
write('bad-bodies.json', errorsOf(badBodies));
console.log(`wrote ${frames.length} frames, ${malformed.length} malformed headers, ${badBodies.length} bad bodies`);
