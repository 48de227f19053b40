/** History and delete-for-me marks on Cassandra (tables in schema.ts). */
import type { MessageRecord } from '../../protocol/bodies.ts';
import type { HiddenStore, HistoryPage, HistoryStore } from '../ports.ts';
import { toNumber, toText } from './errors.ts';
import type { Row, Session } from './session.ts';

export interface HistoryOptions {
  readonly keyspace: string;
  /** Put before every partition key, with a separator: tenants share tables without seeing each other. */
  readonly tenant: string;
  /** Seqs per messages partition. */
  readonly bucketSize: number;
  readonly ttlSeconds: number;
}

const COLUMNS = 'seq, message_id, sender, receiver, kind, content, sent_at, client_msg_id, recalled';
/** Bucket registrations this process remembers having written (the oldest are forgotten first). */
const REMEMBERED_BUCKETS = 100_000;
/** A remembered registration is written again after this long, which keeps its TTL ahead of the messages'. */
const BUCKET_REFRESH_MS = 24 * 3600 * 1000;
/** The bucket index outlives the newest message of its bucket: its TTL is this much longer. */
const BUCKET_TTL_MARGIN_S = 2 * 24 * 3600;

/** A partition key under a tenant. Tenant names have no `|`, so the first one ends the tenant. */
export function tenantKey(tenant: string, id: string): string {
  return tenant === '' ? id : `${tenant}|${id}`;
}

function toMessage(conversationId: string, row: Row): MessageRecord {
  const recalled: unknown = row.get('recalled');
  return {
    messageId: toText('message_id', row.get('message_id')),
    conversationId,
    seq: toNumber('seq', row.get('seq')),
    from: toText('sender', row.get('sender')),
    to: toText('receiver', row.get('receiver')),
    kind: toNumber('kind', row.get('kind')),
    content: toText('content', row.get('content') ?? ''),
    sentAt: toNumber('sent_at', row.get('sent_at')),
    clientMsgId: toText('client_msg_id', row.get('client_msg_id')),
    ...(recalled === true ? { recalled: true } : {}),
  };
}

export class CassandraHistory implements HistoryStore {
  private readonly registered = new Map<string, number>();
  private readonly q: Record<'insert' | 'register' | 'get' | 'buckets' | 'slice', string>;

  constructor(
    private readonly session: Session,
    private readonly options: HistoryOptions,
  ) {
    const ks = options.keyspace;
    this.q = {
      insert: `INSERT INTO ${ks}.messages (conversation_id, bucket, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
      register: `INSERT INTO ${ks}.message_buckets (conversation_id, bucket) VALUES (?, ?) USING TTL ?`,
      get: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE conversation_id = ? AND bucket = ? AND seq = ?`,
      buckets: `SELECT bucket FROM ${ks}.message_buckets WHERE conversation_id = ? AND bucket <= ? LIMIT ?`,
      slice: `SELECT ${COLUMNS} FROM ${ks}.messages WHERE conversation_id = ? AND bucket = ? AND seq < ? LIMIT ?`,
    };
  }

  async put(m: MessageRecord): Promise<void> {
    const key = this.key(m.conversationId);
    const bucket = this.bucketOf(m.seq);
    const row = [key, bucket, BigInt(m.seq), m.messageId, m.from, m.to, m.kind, m.content, BigInt(m.sentAt), m.clientMsgId, m.recalled === true, this.options.ttlSeconds];
    await Promise.all([this.session.write(this.q.insert, row), this.register(key, bucket)]);
  }

  async get(conversationId: string, seq: number): Promise<MessageRecord | undefined> {
    const rows = await this.session.read(this.q.get, [this.key(conversationId), this.bucketOf(seq), BigInt(seq)]);
    return rows[0] === undefined ? undefined : toMessage(conversationId, rows[0]);
  }

  /**
   * Reads limit + 1 messages below beforeSeq, newest first: from the bucket holding beforeSeq - 1
   * (one query answers most pages), then down the conversation's bucket list as far as needed.
   */
  async page(conversationId: string, beforeSeq: number | undefined, limit: number): Promise<HistoryPage> {
    const key = this.key(conversationId);
    const need = limit + 1;
    const rows: Row[] = [];
    if (beforeSeq !== undefined && beforeSeq <= 1) return { messages: [], hasMore: false };
    const below = BigInt(beforeSeq ?? Number.MAX_SAFE_INTEGER);
    let ceiling = BigInt(Number.MAX_SAFE_INTEGER);
    if (beforeSeq !== undefined) {
      const first = this.bucketOf(beforeSeq - 1);
      rows.push(...(await this.session.read(this.q.slice, [key, first, below, need])));
      ceiling = first - 1n;
    }
    scan: while (rows.length < need) {
      const buckets = await this.session.read(this.q.buckets, [key, ceiling, need]);
      for (const row of buckets) {
        const bucket = BigInt(toNumber('bucket', row.get('bucket')));
        rows.push(...(await this.session.read(this.q.slice, [key, bucket, below, need - rows.length])));
        if (rows.length >= need) break scan;
        ceiling = bucket - 1n;
      }
      // Fewer buckets than asked for: there are no older ones.
      if (buckets.length < need) break;
    }
    const messages = rows.slice(0, limit).map((row) => toMessage(conversationId, row));
    return { messages, hasMore: rows.length > limit };
  }

  private key(conversationId: string): string {
    return tenantKey(this.options.tenant, conversationId);
  }

  private bucketOf(seq: number): bigint {
    return BigInt(Math.floor(seq / this.options.bucketSize));
  }

  /** Records that the bucket holds messages, unless this process did so recently. */
  private async register(key: string, bucket: bigint): Promise<void> {
    const id = `${key}\u0000${bucket}`;
    const at = this.registered.get(id);
    if (at !== undefined && Date.now() - at < BUCKET_REFRESH_MS) return;
    await this.session.write(this.q.register, [key, bucket, this.options.ttlSeconds + BUCKET_TTL_MARGIN_S]);
    this.registered.delete(id);
    this.registered.set(id, Date.now());
    if (this.registered.size > REMEMBERED_BUCKETS) {
      const oldest = this.registered.keys().next().value;
      if (oldest !== undefined) this.registered.delete(oldest);
    }
  }
}

export class CassandraHidden implements HiddenStore {
  private readonly insert: string;
  private readonly select: string;

  constructor(
    private readonly session: Session,
    private readonly options: HistoryOptions,
  ) {
    this.insert = `INSERT INTO ${options.keyspace}.hidden (user_id, conversation_id, seq) VALUES (?, ?, ?) USING TTL ?`;
    this.select = `SELECT seq FROM ${options.keyspace}.hidden WHERE user_id = ? AND conversation_id = ? AND seq = ?`;
  }

  async hide(userId: string, conversationId: string, seq: number): Promise<void> {
    await this.session.write(this.insert, [this.user(userId), conversationId, BigInt(seq), this.options.ttlSeconds]);
  }

  async isHidden(userId: string, conversationId: string, seq: number): Promise<boolean> {
    return (await this.session.read(this.select, [this.user(userId), conversationId, BigInt(seq)])).length > 0;
  }

  private user(userId: string): string {
    return tenantKey(this.options.tenant, userId);
  }
}
