import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DISCONNECT, encodeConnack, encodeConnect, encodePuback, encodePublish, encodeSuback, encodeSubscribe, PINGREQ, PINGRESP, withDup } from '../../../loadgen/mqtt/encode.ts';
import { MqttError, MqttErrorCode } from '../../../loadgen/mqtt/errors.ts';
import type { Packet } from '../../../loadgen/mqtt/packets.ts';
import { PacketParser } from '../../../loadgen/mqtt/parser.ts';
import { decodeLoadMessage, encodeLoadMessage } from '../../../loadgen/mqtt/payload.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function parseAll(bytes: Buffer, splits: number[] = [], max?: number): Packet[] {
  const parser = new PacketParser(max);
  const packets: Packet[] = [];
  let from = 0;
  for (const at of [...splits, bytes.length]) {
    parser.push(bytes.subarray(from, at), (p) => packets.push(p));
    from = at;
  }
  assert.equal(parser.pending, 0, 'no bytes left over');
  return packets;
}

/** Plain objects, so a payload view compares equal to a copy. */
const plain = (packets: Packet[]) => packets.map((p) => ('payload' in p ? { ...p, payload: [...p.payload] } : { ...p }));

function assertMqttError(run: () => unknown, code: string): void {
  assert.throws(run, (error: unknown) => error instanceof MqttError && error.code === code);
}

// Byte vectors written out from MQTT 3.1.1 sections 3.1–3.14.
const VECTORS: { name: string; bytes: string; encode: () => Buffer; packet: Packet }[] = [
  {
    name: 'CONNECT, clean session off, keepalive 60',
    bytes: '10 0e 0004 4d515454 04 00 003c 0002 6431',
    encode: () => encodeConnect({ clientId: 'd1', cleanSession: false, keepAliveSeconds: 60 }),
    packet: { type: 'connect', clientId: 'd1', cleanSession: false, keepAliveSeconds: 60 },
  },
  { name: 'CONNACK, session present', bytes: '20 02 01 00', encode: () => encodeConnack(true, 0), packet: { type: 'connack', sessionPresent: true, returnCode: 0 } },
  {
    name: 'PUBLISH QoS 1',
    bytes: '32 09 0003 752f62 000a 6869',
    encode: () => encodePublish({ topic: 'u/b', qos: 1, packetId: 10, payload: Buffer.from('hi') }),
    packet: { type: 'publish', topic: 'u/b', qos: 1, dup: false, retain: false, packetId: 10, payload: Buffer.from('hi') },
  },
  {
    name: 'PUBLISH QoS 0, no packet id',
    bytes: '30 04 0001 61 78',
    encode: () => encodePublish({ topic: 'a', qos: 0, payload: Buffer.from('x') }),
    packet: { type: 'publish', topic: 'a', qos: 0, dup: false, retain: false, packetId: 0, payload: Buffer.from('x') },
  },
  { name: 'PUBACK', bytes: '40 02 000a', encode: () => encodePuback(10), packet: { type: 'puback', packetId: 10 } },
  {
    name: 'SUBSCRIBE one filter at QoS 1',
    bytes: '82 08 0001 0003 752f62 01',
    encode: () => encodeSubscribe(1, [{ topic: 'u/b', qos: 1 }]),
    packet: { type: 'subscribe', packetId: 1, subscriptions: [{ topic: 'u/b', qos: 1 }] },
  },
  { name: 'SUBACK granting QoS 1', bytes: '90 03 0001 01', encode: () => encodeSuback(1, [1]), packet: { type: 'suback', packetId: 1, returnCodes: [1] } },
  { name: 'PINGREQ', bytes: 'c0 00', encode: () => PINGREQ, packet: { type: 'pingreq' } },
  { name: 'PINGRESP', bytes: 'd0 00', encode: () => PINGRESP, packet: { type: 'pingresp' } },
  { name: 'DISCONNECT', bytes: 'e0 00', encode: () => DISCONNECT, packet: { type: 'disconnect' } },
];

describe('mqtt codec', () => {
  for (const v of VECTORS) {
    it(`encodes and parses ${v.name} as the specified bytes`, () => {
      assert.equal(v.encode().toString('hex'), hex(v.bytes).toString('hex'));
      assert.deepEqual(plain(parseAll(hex(v.bytes))), plain([v.packet]));
    });
  }

  it('parses every vector back to back, split at every byte boundary', () => {
    const stream = Buffer.concat(VECTORS.map((v) => hex(v.bytes)));
    const expected = plain(VECTORS.map((v) => v.packet));
    for (let at = 0; at <= stream.length; at++) assert.deepEqual(plain(parseAll(stream, [at])), expected, `split at ${at}`);
    assert.deepEqual(plain(parseAll(stream, Array.from({ length: stream.length }, (_, i) => i))), expected, 'one byte at a time');
  });

  it('writes the remaining length in the fewest 7-bit groups, least significant first', () => {
    // Boundaries from section 2.2.3; a QoS 0 PUBLISH with an empty topic has remaining = 2 + payload.
    const cases: [number, string][] = [
      [2, '02'],
      [127, '7f'],
      [128, '8001'],
      [16_383, 'ff7f'],
      [16_384, '808001'],
      [2_097_151, 'ffff7f'],
      [2_097_152, '80808001'],
    ];
    for (const [remaining, digits] of cases) {
      const packet = encodePublish({ topic: '', qos: 0, payload: Buffer.alloc(remaining - 2, 7) });
      assert.equal(packet.subarray(1, 1 + digits.length / 2).toString('hex'), digits, `remaining ${remaining}`);
      const [parsed] = parseAll(packet, [3], 4 << 20);
      assert.equal(parsed?.type === 'publish' && parsed.payload.length, remaining - 2);
    }
  });

  it('sets DUP on a copy for the resend and leaves the original as sent', () => {
    const first = encodePublish({ topic: 'u/b', qos: 1, packetId: 10, payload: Buffer.from('hi') });
    const again = withDup(first);
    assert.equal(again[0], 0x3a);
    assert.equal(first[0], 0x32);
    assert.deepEqual(plain(parseAll(again)), [{ type: 'publish', topic: 'u/b', qos: 1, dup: true, retain: false, packetId: 10, payload: [...Buffer.from('hi')] }]);
  });

  const malformed: [string, string, string][] = [
    ['a remaining length of five bytes', '30 80808080 01', MqttErrorCode.malformed],
    ['bytes after the end of a PUBACK', '40 03 000a 00', MqttErrorCode.malformed],
    ['flags a PUBACK must not carry', '42 02 000a', MqttErrorCode.malformed],
    ['packet identifier 0', '40 02 0000', MqttErrorCode.malformed],
    ['a PUBLISH at QoS 3', '36 05 0001 61 0001', MqttErrorCode.malformed],
    ['DUP on a QoS 0 PUBLISH', '38 03 0001 61', MqttErrorCode.malformed],
    ['a topic running past the body', '32 03 0005 61', MqttErrorCode.malformed],
    ['reserved packet type 0', '00 00', MqttErrorCode.malformed],
    ['reserved packet type 15', 'f0 00', MqttErrorCode.malformed],
    ['reserved CONNACK flags', '20 02 02 00', MqttErrorCode.malformed],
    ['a SUBACK return code outside 0, 1, 2, 0x80', '90 03 0001 03', MqttErrorCode.malformed],
    ['a PUBLISH at QoS 2', '34 05 0001 61 0001', MqttErrorCode.unsupported],
    ['UNSUBSCRIBE', 'a2 07 0001 0003 752f62', MqttErrorCode.unsupported],
  ];
  for (const [what, bytes, code] of malformed) {
    it(`refuses ${what} with ${code}`, () => assertMqttError(() => parseAll(hex(bytes)), code));
  }

  it('refuses an oversized packet from its header, before the body arrives', () => {
    const parser = new PacketParser(100);
    assertMqttError(() => parser.push(hex('32 ff7f'), () => assert.fail('no packet')), MqttErrorCode.tooLarge);
  });

  it('parses any sequence of PUBLISH and PUBACK packets, however the stream is cut', () => {
    const publish = fc.record({
      topic: fc.string({ maxLength: 40 }),
      qos: fc.constantFrom(0 as const, 1 as const),
      packetId: fc.integer({ min: 1, max: 0xffff }),
      payload: fc.uint8Array({ maxLength: 300 }),
    });
    const packet = fc.oneof(publish, fc.integer({ min: 1, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (packets, cuts) => {
        const encoded = packets.map((p) => (typeof p === 'number' ? encodePuback(p) : encodePublish(p)));
        const stream = Buffer.concat(encoded);
        const splits = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const expected = packets.map((p) =>
          typeof p === 'number' ? { type: 'puback', packetId: p } : { type: 'publish', topic: p.topic, qos: p.qos, dup: false, retain: false, packetId: p.qos ? p.packetId : 0, payload: [...p.payload] },
        );
        assert.deepEqual(plain(parseAll(stream, splits)), expected);
      }),
    );
  });
});

describe('mqtt load payload', () => {
  it('round-trips the id, sender, sequence, send time and content', () => {
    const m = { messageId: 'lgx-u1-d0.7', from: 'lgxu1', fromDevice: 'lgxu1-d0', seq: 7, sentAt: 1_760_000_000_123, content: '0.7|xxxx é' };
    assert.deepEqual(decodeLoadMessage(encodeLoadMessage(m)), m);
  });

  it('refuses a payload that is not one', () => {
    assertMqttError(() => decodeLoadMessage(Buffer.from('hello')), MqttErrorCode.badPayload);
    const truncated = encodeLoadMessage({ messageId: 'm', from: 'a', fromDevice: 'a-d0', seq: 1, sentAt: 0, content: '' }).subarray(0, 16);
    assertMqttError(() => decodeLoadMessage(truncated), MqttErrorCode.badPayload);
  });
});
