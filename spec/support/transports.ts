/** SDK transports a test opens, greeted with hello, and closed after it; and reading refusals as codes. */
import { ServerError, Transport } from '../../client/transport.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';

export class Transports {
  private readonly opened: Transport[] = [];

  /** Connects to a server on loopback (from `localAddress` when given) and sends hello. */
  async greeted(port: number, localAddress?: string): Promise<Transport> {
    const t = await Transport.open({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    this.opened.push(t);
    await t.request(Opcode.hello, Bodies.hello, { version: 1, client: 'spec' }, Bodies.serverHello);
    return t;
  }

  closeAll(): void {
    for (const t of this.opened.splice(0)) t.close();
  }
}

/** 0 when the request succeeded, else the error code the server refused it with. */
export async function codeOf(request: Promise<unknown>): Promise<number> {
  try {
    await request;
    return 0;
  } catch (error) {
    if (error instanceof ServerError) return error.code;
    throw error;
  }
}
