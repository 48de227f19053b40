/**
 * A TCP forwarder in front of a shared service, for a test that needs the service to go away and
 * come back without stopping it for everyone else: `close()` refuses new connections and cuts the
 * open ones, as a stopped server would; `open()` listens again on the same port.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../spec/support/process.ts';

export class TcpGate {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpGate> {
    const gate = new TcpGate(await freePort(), target);
    await gate.open();
    return gate;
  }

  open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
