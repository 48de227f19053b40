import assert from 'node:assert/strict';
import { decodeBody, decodeMsgpack, encodeShared } from '../../codec/index.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function rejects(run: () => unknown, code: number = ErrorCode.badBody): ProtocolError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ProtocolError, String(error));
    assert.equal(error.code, code);
    return error;
  }
  assert.fail('expected a ProtocolError');
}

describe('Bounded body decoding', () => {
  it('rejects arrays nested 8 million deep in a few milliseconds, without materialising them', () => {
    const bomb = Buffer.alloc(8 * 1024 * 1024, 0x91);
    for (const decode of [() => decodeBody(Bodies.hello, bomb), () => decodeMsgpack(bomb)]) {
      const started = performance.now();
      rejects(decode);
      assert.ok(performance.now() - started < 50, 'rejected from the first bytes');
    }
  });

  it('rejects nesting deeper than four arrays in fields a later version might append', () => {
    // hello [1, "a", [[[[]]]]]: the extra element opens arrays 2..5.
    rejects(() => decodeBody(Bodies.hello, hex('93 01 a1 61 91 91 91 90')));
    assert.deepEqual(decodeBody(Bodies.hello, hex('93 01 a1 61 91 91 90')), { version: 1, client: 'a' });
  });

  it('rejects a string longer than its schema allows from its header, before reading it', () => {
    // hello.client is str ≤ 64: a str 32 header announcing 8 MiB, with only 3 bytes behind it.
    const error = rejects(() => decodeBody(Bodies.hello, hex('92 01 db 00 80 00 00 61 61 61')));
    assert.match(error.message, /client/);
  });

  it('rejects a list longer than its schema allows from its header', () => {
    const header = hex('94 dd 00 01 00 00');
    rejects(() => decodeBody(Bodies.syncPage, Buffer.concat([header, Buffer.alloc(16, 0x90)])));
  });

  it('rejects invalid UTF-8 in a string field and in an appended one', () => {
    // send ["c1", "bob", 1, <ff fe>]
    rejects(() => decodeBody(Bodies.send, hex('94 a2 63 31 a3 62 6f 62 01 a2 ff fe')));
    // an overlong encoding of "/" and a lone surrogate (ed a0 80)
    rejects(() => decodeBody(Bodies.send, hex('94 a2 63 31 a3 62 6f 62 01 a2 c0 af')));
    rejects(() => decodeBody(Bodies.send, hex('94 a2 63 31 a3 62 6f 62 01 a3 ed a0 80')));
    rejects(() => decodeBody(Bodies.ping, hex('91 a1 ff')));
    assert.equal(decodeBody(Bodies.send, encodeShared(['c1', 'bob', 1, 'héllo 😀'])).content, 'héllo 😀');
  });

  it('rejects floats, negative numbers and maps for integer fields, and accepts every integer format', () => {
    rejects(() => decodeBody(Bodies.send, hex('94 a2 63 31 a3 62 6f 62 cb 3f f0 00 00 00 00 00 00 a0')));
    rejects(() => decodeBody(Bodies.send, hex('94 a2 63 31 a3 62 6f 62 ca 3f 80 00 00 a0')));
    rejects(() => decodeBody(Bodies.send, hex('94 a2 63 31 a3 62 6f 62 ff a0')));
    rejects(() => decodeBody(Bodies.send, hex('94 a2 63 31 a3 62 6f 62 d0 ff a0')));
    rejects(() => decodeBody(Bodies.send, hex('94 a2 63 31 a3 62 6f 62 80 a0')));
    for (const kind of ['01', 'cc 01', 'cd 00 01', 'ce 00 00 00 01', 'cf 00 00 00 00 00 00 00 01', 'd0 01', 'd3 00 00 00 00 00 00 00 01']) {
      assert.equal(decodeBody(Bodies.send, hex(`94 a2 63 31 a3 62 6f 62 ${kind} a0`)).kind, 1, kind);
    }
  });

  it('rejects ping bodies that are not the empty record', () => {
    for (const body of ['c1', '', '80', '90 90', 'c0']) rejects(() => decodeBody(Bodies.ping, hex(body)));
    assert.deepEqual(decodeBody(Bodies.ping, hex('90')), {});
  });
});
