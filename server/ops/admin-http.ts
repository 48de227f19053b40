/**
 * The admin HTTP listener, on its own port and loopback by default: /health, /ready, /metrics,
 * and the admin API under /admin/, which needs `Authorization: Bearer <token>` (and is off when
 * no token is configured). Every route is plain JSON; a protocol error is 400 with its code.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ProtocolError } from '../../protocol/errors.ts';
import type { Admin } from '../logic/admin.ts';
import type { Metrics } from './metrics.ts';

export type AdminOperations = Pick<Admin, 'online' | 'devices' | 'kick' | 'revokeTokens' | 'systemMessage' | 'groupSystemMessage' | 'roomSystemMessage' | 'sanction'>;

export interface Readiness {
  readonly ready: boolean;
  readonly reason?: string;
}

export interface AdminHttpOptions {
  readonly host: string;
  readonly port: number;
  /** The bearer token of the admin API; without one, /admin/ answers 404. */
  readonly token: string | undefined;
  readonly metrics: Metrics;
  readonly admin: AdminOperations;
  readonly readiness: () => Promise<Readiness>;
  readonly onError: (error: unknown) => void;
}

/** Bodies of admin requests are small JSON objects; a system message is at most 64 Ki characters. */
const MAX_BODY_BYTES = 300_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Policy: refuse, and stop reading; the connection is closed with the answer.
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body above ${MAX_BODY_BYTES} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => {
      if (size === 0) return resolve({});
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        resolve(parsed as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'the body must be a JSON object'));
      }
    });
    request.on('error', reject);
  });
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, `${key} must be a string`);
  return value;
}

/** At most a year: a sanction has an end; a ban is a different tool. */
const MAX_SANCTION_SECONDS = 366 * 86_400;

function duration(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_SANCTION_SECONDS) throw new HttpError(400, `${key} must be an integer from 0 (lift it) to ${MAX_SANCTION_SECONDS}`);
  return value;
}

/** The body of a system message: `content`, and `kind` (default 1, text). */
function messageOf(body: Record<string, unknown>): { content: string; kind: number } {
  const content = optionalString(body, 'content');
  if (content === undefined) throw new HttpError(400, 'content is required');
  const kind = body.kind ?? 1;
  if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < 0) throw new HttpError(400, 'kind must be a non-negative integer');
  return { content, kind };
}

export class AdminHttp {
  private readonly server: Server;
  private readonly tokenDigest: Buffer | undefined;

  constructor(private readonly options: AdminHttpOptions) {
    this.tokenDigest = options.token ? digest(options.token) : undefined;
    this.server = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => this.fail(response, error));
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : this.options.port);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://admin');
    const method = request.method ?? 'GET';
    const path = url.pathname;
    if (method === 'GET' && path === '/health') return this.json(response, 200, { status: 'ok' });
    if (method === 'GET' && path === '/ready') {
      const readiness = await this.options.readiness();
      return this.json(response, readiness.ready ? 200 : 503, readiness);
    }
    if (method === 'GET' && path === '/metrics') {
      const text = await this.options.metrics.render();
      response.writeHead(200, { 'content-type': this.options.metrics.contentType });
      response.end(text);
      return;
    }
    if (path.startsWith('/admin/')) return this.adminRoute(request, response, method, path.slice('/admin'.length));
    throw new HttpError(404, `no route ${method} ${path}`);
  }

  private async adminRoute(request: IncomingMessage, response: ServerResponse, method: string, path: string): Promise<void> {
    if (!this.tokenDigest) throw new HttpError(404, 'the admin API is off: no admin token is configured');
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    // Digests of equal length, compared in constant time: the answer time tells nothing about the token.
    if (!timingSafeEqual(digest(given), this.tokenDigest)) {
      response.setHeader('www-authenticate', 'Bearer');
      throw new HttpError(401, 'a valid bearer token is required');
    }
    const { admin } = this.options;
    if (method === 'GET' && path === '/online') return this.json(response, 200, admin.online());
    const target = /^\/(groups|rooms)\/([^/]+)\/messages$/.exec(path);
    if (target) {
      if (method !== 'POST') throw new HttpError(405, `${method} not allowed here`);
      const id = decodeURIComponent(target[2] as string);
      const body = await readJson(request);
      const { content, kind } = messageOf(body);
      if (target[1] === 'groups') return this.json(response, 200, await admin.groupSystemMessage(id, content, kind));
      const reliable = body.reliable ?? false;
      if (typeof reliable !== 'boolean') throw new HttpError(400, 'reliable must be a boolean');
      return this.json(response, 200, await admin.roomSystemMessage(id, content, kind, reliable));
    }
    const match = /^\/users\/([^/]+)\/([a-z-]+)$/.exec(path);
    if (!match) throw new HttpError(404, `no route ${method} /admin${path}`);
    const userId = decodeURIComponent(match[1] as string);
    const action = match[2];
    if (method === 'GET' && action === 'devices') return this.json(response, 200, { devices: await admin.devices(userId) });
    if (method !== 'POST') throw new HttpError(405, `${method} not allowed here`);
    const body = await readJson(request);
    switch (action) {
      case 'kick':
        return this.json(response, 200, { kicked: await admin.kick(userId, optionalString(body, 'deviceId'), optionalString(body, 'message')) });
      case 'revoke-tokens':
        return this.json(response, 200, await admin.revokeTokens(userId, optionalString(body, 'deviceId')));
      case 'sanctions': {
        const mutedSeconds = duration(body, 'mutedSeconds');
        const textOnlySeconds = duration(body, 'textOnlySeconds');
        if (mutedSeconds === undefined && textOnlySeconds === undefined) throw new HttpError(400, 'give mutedSeconds, textOnlySeconds or both');
        return this.json(response, 200, await admin.sanction(userId, { ...(mutedSeconds !== undefined ? { mutedSeconds } : {}), ...(textOnlySeconds !== undefined ? { textOnlySeconds } : {}) }));
      }
      case 'messages': {
        const { content, kind } = messageOf(body);
        return this.json(response, 200, await admin.systemMessage(userId, content, kind));
      }
    }
    throw new HttpError(404, `no route ${method} /admin${path}`);
  }

  private json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  private fail(response: ServerResponse, error: unknown): void {
    if (response.headersSent) return void response.destroy();
    if (error instanceof HttpError) return this.json(response, error.status, { error: error.message });
    if (error instanceof ProtocolError) return this.json(response, 400, { error: error.message, code: error.code });
    this.options.onError(error);
    this.json(response, 500, { error: 'internal error' });
  }
}
