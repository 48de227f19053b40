/** Opens many authenticated, idle connections and reports what they cost the server in RSS. */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Transport } from '../../client/transport.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

/** How one connection is brought up: raw (connect only) or through hello and a login. */
export type Opener = (transport: Transport, index: number) => Promise<void>;

export const justConnect: Opener = async () => undefined;

/** Registers `count` users and returns their session tokens, so that later logins skip scrypt. */
export async function registerUsers(port: number, count: number, prefix: string): Promise<string[]> {
  const tokens: string[] = new Array(count);
  await openMany(port, count, async (transport, i) => {
    await transport.request(Opcode.hello, Bodies.hello, { version: 1, client: 'idle' }, Bodies.serverHello);
    const session = await transport.request(Opcode.register, Bodies.register, { userId: `${prefix}${i}`, password: 'pw', deviceId: 'd', platform: 2 }, Bodies.session);
    tokens[i] = session.token;
    transport.close();
  });
  return tokens;
}

export function tokenLogin(prefix: string, tokens: string[]): Opener {
  return async (transport, i) => {
    await transport.request(Opcode.hello, Bodies.hello, { version: 1, client: 'idle' }, Bodies.serverHello);
    await transport.request(Opcode.login, Bodies.login, { userId: `${prefix}${i}`, deviceId: 'd', platform: 2, token: tokens[i] as string }, Bodies.session);
  };
}

/** Opens `count` connections, `batch` at a time; `tls` makes them TLS connections. */
export async function openMany(port: number, count: number, opener: Opener, tls?: ConnectionOptions, batch = 200): Promise<Transport[]> {
  const open: Transport[] = [];
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const opened = await Promise.all(
      Array.from({ length: n }, async (_, j) => {
        const transport = await Transport.open({ host: '127.0.0.1', port, ...(tls ? { tls } : {}) });
        await opener(transport, i + j);
        return transport;
      }),
    );
    open.push(...opened);
  }
  return open;
}
