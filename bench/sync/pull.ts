/**
 * A device pulling its inbox over a real connection, page by page until the empty page, as the
 * SDK's sync loop does: each request names the last version applied, which acknowledges the page
 * before it. Records every page's round trip and keeps the raw reply frames for size figures.
 */
import { type Frame } from '../../codec/index.ts';
import { ServerError, Transport } from '../../client/transport.ts';
import { Bodies, Platform } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';

export const DEVICE_ID = 'phone';

export interface PullResult {
  readonly entries: number;
  /** Requests answered with a page, the final empty one included. */
  readonly pages: number;
  readonly seconds: number;
  /** ms from the first request to the page that said nothing more was left (hasMore false). */
  readonly lastEntriesMs: number;
  /** Round trip of each page request, ms. */
  readonly pageMs: number[];
  /** Replies refused with rateLimited and asked again. */
  readonly throttled: number;
  /** The raw syncPage reply frames, when asked for. */
  readonly frames: Frame[];
}

export interface PullOptions {
  readonly pageSize: number;
  /** The most pages this pull may take; more means the inbox is not what was seeded. */
  readonly maxPages: number;
  readonly keepFrames: boolean;
}

/** How long a throttled device waits before asking again: the server counts frames per second. */
const THROTTLE_BACKOFF_MS = 50;
/** Throttled replies one pull tolerates before it gives up. */
const MAX_THROTTLED = 10_000;

/** Connects, greets and logs in with a token, as a returning device does. */
export async function openDevice(port: number, userId: string, token: string): Promise<Transport> {
  const transport = await Transport.open({ host: '127.0.0.1', port });
  await transport.request(Opcode.hello, Bodies.hello, { version: 1, client: 'sync-bench' }, Bodies.serverHello);
  await transport.request(Opcode.login, Bodies.login, { userId, deviceId: DEVICE_ID, platform: Platform.android, token }, Bodies.session);
  return transport;
}

/** Pulls from version 0 until the empty page. */
export async function pullAll(transport: Transport, options: PullOptions): Promise<PullResult> {
  const frames: Frame[] = [];
  // Reply bodies are views into the socket's reads, which Node never reuses: holding them is safe.
  const onReply = (frame: Frame) => {
    if (frame.opcode === Opcode.syncPage) frames.push(frame);
  };
  if (options.keepFrames) transport.on('reply', onReply);
  const pageMs: number[] = [];
  let version = 0;
  let entries = 0;
  let throttled = 0;
  let lastEntriesMs = Number.NaN;
  const started = performance.now();
  try {
    for (let page = 0; ; page++) {
      if (page >= options.maxPages) throw new Error(`sync did not end within ${options.maxPages} pages`);
      const asked = performance.now();
      let reply;
      try {
        reply = await transport.request(Opcode.sync, Bodies.sync, { sinceVersion: version, limit: options.pageSize }, Bodies.syncPage);
      } catch (error) {
        if (!(error instanceof ServerError && error.code === ErrorCode.rateLimited) || ++throttled > MAX_THROTTLED) throw error;
        page--;
        await new Promise((resolve) => setTimeout(resolve, THROTTLE_BACKOFF_MS));
        continue;
      }
      pageMs.push(performance.now() - asked);
      if (!reply.hasMore && Number.isNaN(lastEntriesMs)) lastEntriesMs = performance.now() - started;
      if (reply.entries.length === 0) break;
      entries += reply.entries.length;
      version = reply.lastVersion;
    }
  } finally {
    transport.off('reply', onReply);
  }
  return { entries, pages: pageMs.length, seconds: (performance.now() - started) / 1000, lastEntriesMs, pageMs, throttled, frames };
}
