/**
 * A device that speaks the protocol with raw frames and no SDK: hello, register, sends with a
 * callback per ACK, pushes ACKed once per read. It costs the bench process as little CPU as the
 * protocol allows, so the server gets its share of a small machine.
 */
import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies, Platform, type BodyName, type BodyOf } from '../../protocol/bodies.ts';
import { PROTOCOL_VERSION } from '../../protocol/header.ts';
import { Opcode } from '../../protocol/opcodes.ts';

export type AckHandler = (ack: BodyOf<'sendAck'> | undefined, errorCode?: number) => void;
export type PushHandler = (entry: BodyOf<'push'>, sid: number) => void;

export class RawDevice {
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder({ maxFrameSize: 1 << 20, maxRawBodySize: 8 << 20 });
  private readonly waiting = new Map<number, (frame: Frame) => void>();
  private nextRequest = 1;
  private ackUpTo = 0;
  private closed = false;
  onPush: PushHandler = () => undefined;
  /** False: pushes are counted and ACKed by header alone, without decoding their bodies (a cheap viewer for benches). */
  decodePushes = true;
  pushesReceived = 0;
  /** Frames that answer no request and are not pushes: goAway, kick, fatal errors with request id 0. */
  onOther: (frame: Frame) => void = () => undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  /** Connects, greets and registers `userId` (password "pw"). */
  static register(port: number, userId: string, host = '127.0.0.1'): Promise<RawDevice> {
    return RawDevice.open(port, userId, { host, register: true });
  }

  /** Connects, greets and registers or logs in one device of `userId` (password "pw"). */
  static async open(port: number, userId: string, options: { host?: string; register?: boolean; deviceId?: string; platform?: number; password?: string } = {}): Promise<RawDevice> {
    const host = options.host ?? '127.0.0.1';
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const device = new RawDevice(socket);
    await device.request(Opcode.hello, Bodies.hello, { version: PROTOCOL_VERSION, client: 'bench' });
    const credentials = { userId, password: options.password ?? 'pw', deviceId: options.deviceId ?? `${userId}-d`, platform: options.platform ?? Platform.android };
    const reply = options.register === false ? await device.request(Opcode.login, Bodies.login, credentials) : await device.request(Opcode.register, Bodies.register, credentials);
    if (reply.opcode !== Opcode.session) throw new Error(`${options.register === false ? 'login' : 'register'} ${userId}: opcode 0x${reply.opcode.toString(16)}`);
    return device;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(clientMsgId: string, to: string, content: string, onAck: AckHandler, kind = 1): void {
    const requestId = this.nextRequest++;
    this.waiting.set(requestId, (frame) => {
      if (frame.opcode === Opcode.sendAck) onAck(readBody(frame, Bodies.sendAck));
      else onAck(undefined, frame.opcode === Opcode.error ? readBody(frame, Bodies.error).code : -1);
    });
    this.socket.write(encodeFrame(Opcode.send, requestId, Bodies.send, { clientMsgId, to, kind, content }));
  }

  ping(onPong: () => void): void {
    const requestId = this.nextRequest++;
    this.waiting.set(requestId, () => onPong());
    this.socket.write(encodeFrame(Opcode.ping, requestId, Bodies.ping, {}));
  }

  /** Sends one request and resolves with its reply frame (the reply or an error). */
  call<N extends BodyName>(name: N, body: BodyOf<N>): Promise<Frame> {
    return this.request(Opcode[name], Bodies[name] as never, body);
  }

  close(): void {
    this.socket.destroy();
  }

  private request<T>(opcode: number, schema: Parameters<typeof encodeFrame<T>>[2], body: T): Promise<Frame> {
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      this.waiting.set(requestId, resolve);
      this.socket.write(encodeFrame(opcode, requestId, schema, body));
    });
  }

  private onData(chunk: Buffer): void {
    const before = this.ackUpTo;
    const error = this.decoder.push(chunk, (frame) => this.onFrame(frame));
    if (error) throw error;
    // One cumulative ACK per read, as a phone would send after draining its socket.
    if (this.ackUpTo > before) this.socket.write(encodeFrame(Opcode.pushAck, 0, Bodies.pushAck, { upTo: this.ackUpTo }));
  }

  private onFrame(frame: Frame): void {
    if (frame.opcode === Opcode.push) {
      this.pushesReceived++;
      if (this.decodePushes) this.onPush(readBody(frame, Bodies.push), frame.requestId);
      if (frame.requestId > this.ackUpTo) this.ackUpTo = frame.requestId;
      return;
    }
    const waiting = this.waiting.get(frame.requestId);
    if (!waiting) return this.onOther(frame);
    this.waiting.delete(frame.requestId);
    waiting(frame);
  }
}
