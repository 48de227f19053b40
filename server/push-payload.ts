/**
 * One inbox entry on its way to many connections. Its push body is encoded at most once, by
 * whoever frames it first (the gateway, or the logic host before IPC), and every connection,
 * first send and retransmission alike, writes the same bytes behind its own 16-byte header.
 */
import { entryBytes, prepareBody, prepareEncoded, type EncodeOptions, type PreparedBody } from '../codec/index.ts';
import { Bodies, type BodyOf } from '../protocol/bodies.ts';

let encodes = 0;

/** How many push bodies this process has encoded; tests count encodes per entry with it. */
export function pushBodyEncodes(): number {
  return encodes;
}

export class PushPayload {
  private constructor(
    /** The entry itself; absent when only its bytes crossed a process boundary. */
    readonly entry: BodyOf<'push'> | undefined,
    private encoded: PreparedBody | undefined,
  ) {}

  static of(entry: BodyOf<'push'>): PushPayload {
    return new PushPayload(entry, undefined);
  }

  /** Bytes already encoded elsewhere (another process) with the same schema. */
  static fromPrepared(prepared: PreparedBody): PushPayload {
    return new PushPayload(undefined, prepared);
  }

  prepared(options?: EncodeOptions): PreparedBody {
    if (!this.encoded) {
      encodes++;
      const entry = this.entry as BodyOf<'push'>;
      const { message } = entry;
      // A message entry reuses the message's bytes from its commit rather than encoding the content again.
      this.encoded = message ? prepareEncoded(entryBytes({ ...entry, message }), options) : prepareBody(Bodies.push, entry, options);
    }
    return this.encoded;
  }
}
