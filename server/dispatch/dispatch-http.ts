/**
 * The public dispatch listener: `GET /dispatch?user=<id>` answers the gateways a client should
 * try, best first, as `{"endpoints":[{"host","port","tlsPort"?}]}`; 503 when no node has room.
 * Nothing else is served here, so it can face the internet while /admin stays on loopback.
 */
import { createServer, type Server } from 'node:http';
import { checkUserId } from '../logic/ids.ts';
import type { Dispatcher } from './dispatcher.ts';

export class DispatchHttp {
  private readonly server: Server;

  constructor(
    private readonly dispatcher: Pick<Dispatcher, 'endpoints'>,
    private readonly onError: (error: unknown) => void,
  ) {
    this.server = createServer((request, response) => {
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(JSON.stringify(body));
      };
      const url = new URL(request.url ?? '/', 'http://dispatch');
      if (request.method !== 'GET' || url.pathname !== '/dispatch') return json(404, { error: 'only GET /dispatch is served here' });
      const user = url.searchParams.get('user');
      try {
        if (user !== null) checkUserId(user);
      } catch (error) {
        return json(400, { error: (error as Error).message });
      }
      this.dispatcher.endpoints().then(
        (endpoints) => json(endpoints.length > 0 ? 200 : 503, { endpoints }),
        (error: unknown) => {
          this.onError(error);
          json(503, { endpoints: [], error: 'the load board is unreachable' });
        },
      );
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
