/**
 * A device in live rooms over a raw socket: requests with their replies, and every roomPush
 * (decoded, with the dropped count from its header) and roomLeft the server sends. `pause()`
 * stops reading the socket, which makes it a slow viewer.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies, Platform, type BodyName, type BodyOf } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { waitUntil } from './server.ts';

export interface ReceivedBatch {
  readonly dropped: number;
  readonly body: BodyOf<'roomPush'>;
}

export type Reply<N extends BodyName> = { ok: true; body: BodyOf<N> } | { ok: false; code: number };

export class RoomPeer {
  readonly batches: ReceivedBatch[] = [];
  readonly left: BodyOf<'roomLeft'>[] = [];
  closed = false;
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder({ maxFrameSize: 1 << 20, maxRawBodySize: 8 << 20 });
  private readonly replies = new Map<number, Frame>();
  private nextId = 1;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      const error = this.decoder.push(chunk, (frame) => this.onFrame(frame));
      if (error) throw error;
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static async register(port: number, userId: string): Promise<RoomPeer> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const peer = new RoomPeer(socket);
    await peer.request('hello', 'serverHello', { version: 1, client: 'spec' });
    const session = await peer.request('register', 'session', { userId, password: 'pw', deviceId: `${userId}-d`, platform: Platform.ios });
    assert.ok(session.ok, `register ${userId}`);
    return peer;
  }

  /** Sends a request and resolves with its reply body, or the error code. */
  async request<R extends BodyName>(name: BodyName, reply: R, body: unknown): Promise<Reply<R>> {
    const id = this.send(name, body);
    await waitUntil(() => this.replies.has(id) || this.closed, `a reply to ${name}`);
    const frame = this.replies.get(id);
    if (!frame) assert.fail(`closed before the reply to ${name}`);
    this.replies.delete(id);
    if (frame.opcode === Opcode.error) return { ok: false, code: readBody(frame, Bodies.error).code };
    assert.equal(frame.opcode, Opcode[reply]);
    return { ok: true, body: readBody(frame, Bodies[reply]) as BodyOf<R> };
  }

  /** Sends without waiting; returns the request id. */
  send(name: BodyName, body: unknown): number {
    const id = this.nextId++;
    this.socket.write(encodeFrame(Opcode[name], id, Bodies[name] as never, body as never));
    return id;
  }

  async join(roomId: string): Promise<BodyOf<'roomJoined'>> {
    const reply = await this.request('roomJoin', 'roomJoined', { roomId });
    if (!reply.ok) assert.fail(`join ${roomId}: error ${reply.code}`);
    return reply.body;
  }

  async roomSend(roomId: string, content: string, reliable = false): Promise<Reply<'roomSendAck'>> {
    return this.request('roomSend', 'roomSendAck', { roomId, clientMsgId: `c-${this.nextId}`, kind: reliable ? 7 : 1, content, reliable });
  }

  /** Every room message received, in order of arrival. */
  messages(roomId?: string): BodyOf<'roomPush'>['messages'] {
    return this.batches.filter((b) => roomId === undefined || b.body.roomId === roomId).flatMap((b) => b.body.messages);
  }

  droppedReported(): number {
    return this.batches.reduce((n, b) => n + b.dropped, 0);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    this.socket.destroy();
  }

  private onFrame(frame: Frame): void {
    if (frame.opcode === Opcode.roomPush) return void this.batches.push({ dropped: frame.requestId, body: readBody(frame, Bodies.roomPush) });
    if (frame.opcode === Opcode.roomLeft) return void this.left.push(readBody(frame, Bodies.roomLeft));
    this.replies.set(frame.requestId, frame);
  }
}
