/**
 * The senders of the rooms bench: devices in the room that send at a fixed total rate (an open
 * loop, ticks of 10 ms), each message carrying its send time so sampled viewers can measure the
 * latency. Every 100th message is reliable. They read what they receive by header only.
 */
import { connect, type Socket } from 'node:net';
import { encodeFrame } from '../../codec/index.ts';
import { Bodies, MAX_ROOM_CONTENT_LENGTH, Platform } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';

/** Words for comment-like contents that differ from message to message (so LZ4 gets no free lunch). */
const WORDS = ['nice', 'stream', 'hello', 'from', 'the', 'room', 'wow', 'gg', 'lol', 'again', 'play', 'that', 'song', 'where', 'is', 'this', 'so', 'good', 'first', 'time', 'here'];

function comment(n: number, wordCount: number): string {
  let x = (n * 2654435761) >>> 0;
  const words: string[] = [];
  for (let i = 0; i < wordCount; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    words.push(WORDS[(x >>> 16) % WORDS.length] as string);
  }
  return `${words.join(' ')} #${n}`;
}

class Sender {
  private readonly header = Buffer.alloc(16);
  private filled = 0;
  private skip = 0;
  private nextId = 10;
  errors = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly roomId: string,
    private readonly joined: () => void,
    private readonly words: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => undefined);
  }

  static open(port: number, userId: string, roomId: string, words: number): Promise<Sender> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      const sender: Sender = new Sender(socket, roomId, () => resolve(sender), words);
      socket.once('error', reject);
      socket.on('connect', () => {
        socket.write(encodeFrame(Opcode.hello, 1, Bodies.hello, { version: 1, client: 'bench' }));
        socket.write(encodeFrame(Opcode.register, 2, Bodies.register, { userId, password: 'pw', deviceId: `${userId}-d`, platform: Platform.android }));
      });
    });
  }

  send(n: number): void {
    // Clipped to the content limit: a longer one would be refused (and a refused gift is not in the room).
    const content = `${(performance.timeOrigin + performance.now()).toFixed(3)} ${comment(n, this.words)}`.slice(0, MAX_ROOM_CONTENT_LENGTH);
    this.socket.write(encodeFrame(Opcode.roomSend, this.nextId++, Bodies.roomSend, { roomId: this.roomId, clientMsgId: `m${n}`, kind: 1, content, reliable: n % 100 === 99 }));
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - offset);
        this.skip -= n;
        offset += n;
        continue;
      }
      const n = Math.min(16 - this.filled, chunk.length - offset);
      chunk.copy(this.header, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled < 16) break;
      this.filled = 0;
      this.skip = this.header.readUInt32BE(0) - 16;
      const opcode = this.header.readUInt16BE(6);
      const requestId = this.header.readUInt32BE(8);
      if (opcode === Opcode.session && requestId === 2) {
        this.socket.write(encodeFrame(Opcode.roomJoin, 3, Bodies.roomJoin, { roomId: this.roomId }));
      } else if (opcode === Opcode.roomJoined) this.joined();
      else if (opcode === Opcode.error) this.errors++;
    }
  }
}

export interface SenderGroup {
  /** Sends at `perSecond` for `seconds`; resolves with the number sent. */
  run(perSecond: number, seconds: number): Promise<number>;
  errors(): number;
  /** Reliable messages sent so far (every 100th). */
  reliableSent(): number;
  close(): void;
}

/** `words`: words of comment per message (5 by default: about 40 bytes of content). */
export async function openSenders(port: number, count: number, tag: string, roomId: string, words = 5): Promise<SenderGroup> {
  const senders = await Promise.all(Array.from({ length: count }, (_, i) => Sender.open(port, `${tag}-s${i}`, roomId, words)));
  let total = 0;
  return {
    run(perSecond, seconds) {
      return new Promise((resolve) => {
        const started = performance.now();
        let sent = 0;
        const timer = setInterval(() => {
          const elapsed = Math.min(performance.now() - started, seconds * 1000);
          const due = Math.floor((elapsed / 1000) * perSecond);
          for (; sent < due; sent++) (senders[sent % senders.length] as Sender).send(total + sent);
          if (elapsed >= seconds * 1000) {
            clearInterval(timer);
            total += sent;
            resolve(sent);
          }
        }, 10);
      });
    },
    reliableSent: () => Math.floor(total / 100),
    errors: () => senders.reduce((n, s) => n + s.errors, 0),
    close: () => senders.forEach((s) => s.close()),
  };
}
