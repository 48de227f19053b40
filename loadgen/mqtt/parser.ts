/**
 * A streaming MQTT packet parser: a small state machine (TYPE → LENGTH → BODY) over the list of
 * received chunks. A body that sits in one chunk is handed out as a view; only a body that spans
 * chunks is copied. The size limit is checked from the remaining length, before the body is
 * buffered, so a hostile length cannot make us hold more than one chunk beyond the limit.
 *
 * After a thrown MqttError the stream is out of sync: close the connection and use a new parser.
 */
import { decodePacket } from './decode.ts';
import { MqttError, MqttErrorCode } from './errors.ts';
import type { Packet } from './packets.ts';

type State = 'type' | 'length' | 'body';

/** The load generator's messages are small; 1 MiB leaves room for any scenario's message size. */
export const DEFAULT_MAX_PACKET_BYTES = 1 << 20;

export class PacketParser {
  private readonly chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private head = 0;
  private buffered = 0;
  private state: State = 'type';
  private firstByte = 0;
  private remaining = 0;
  private lengthDigits = 0;

  constructor(private readonly maxPacketBytes = DEFAULT_MAX_PACKET_BYTES) {}

  /** Bytes received but not yet part of a complete packet. */
  get pending(): number {
    return this.buffered;
  }

  /** Takes received bytes and calls `onPacket` for every packet they complete, in order. */
  push(chunk: Buffer, onPacket: (packet: Packet) => void): void {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      switch (this.state) {
        case 'type':
          if (this.buffered < 1) return;
          this.firstByte = this.byte();
          this.remaining = 0;
          this.lengthDigits = 0;
          this.state = 'length';
          break;
        case 'length':
          if (this.buffered < 1) return;
          this.readLengthDigit();
          break;
        case 'body': {
          if (this.buffered < this.remaining) return;
          const body = this.consume(this.remaining);
          this.state = 'type';
          onPacket(decodePacket(this.firstByte, body));
          break;
        }
      }
    }
  }

  /** One 7-bit group of the remaining length, least significant first (section 2.2.3). */
  private readLengthDigit(): void {
    const digit = this.byte();
    this.remaining += (digit & 0x7f) * 0x80 ** this.lengthDigits;
    this.lengthDigits++;
    if (digit & 0x80) {
      if (this.lengthDigits === 4) throw new MqttError(MqttErrorCode.malformed, 'malformed packet: remaining length longer than four bytes');
      return;
    }
    const total = 1 + this.lengthDigits + this.remaining;
    if (total > this.maxPacketBytes) throw new MqttError(MqttErrorCode.tooLarge, `packet of ${total} bytes exceeds the ${this.maxPacketBytes}-byte limit`);
    this.state = 'body';
  }

  private byte(): number {
    const chunk = this.chunks[0] as Buffer;
    const b = chunk[this.head++] as number;
    this.buffered--;
    if (this.head === chunk.length) this.dropHead();
    return b;
  }

  /** `n` buffered bytes: a view when they lie in the first chunk, else a copy across chunks. */
  private consume(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0 || first === undefined) return Buffer.alloc(0);
    if (first.length - this.head >= n) {
      const view = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) this.dropHead();
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0] as Buffer;
      const take = Math.min(n - filled, chunk.length - this.head);
      chunk.copy(out, filled, this.head, this.head + take);
      filled += take;
      this.head += take;
      if (this.head === chunk.length) this.dropHead();
    }
    return out;
  }

  private dropHead(): void {
    this.chunks.shift();
    this.head = 0;
  }
}
