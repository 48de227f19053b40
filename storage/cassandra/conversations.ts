/**
 * What must outlive Redis of a user's 1:1 conversation list, on Cassandra: which conversations
 * the user has (with the peer) and the read seq of each. The rest of a row (last message, last
 * seq, order, unread count) follows from history and is rebuilt from it when Redis lost the hot
 * copy (storage/production-conversations.ts), so a message writes nothing here but the first
 * one of a conversation for each of its users.
 */
import { toNumber, toText } from './errors.ts';
import { tenantKey } from './history.ts';
import { readSeqWriteTime } from './read-seqs.ts';
import type { Session } from './session.ts';

export interface KeptConversation {
  readonly conversationId: string;
  readonly peer: string;
  /** 0 when never marked read. */
  readonly readSeq: number;
}

export class CassandraConversations {
  private readonly q: Record<'putRow' | 'putReadSeq' | 'rows', string>;

  constructor(
    private readonly session: Session,
    keyspace: string,
    private readonly tenant: string,
  ) {
    const ks = keyspace;
    this.q = {
      putRow: `UPDATE ${ks}.conversation_rows SET peer = ? WHERE user_id = ? AND conversation_id = ?`,
      putReadSeq: `UPDATE ${ks}.conversation_rows USING TIMESTAMP ? SET read_seq = ? WHERE user_id = ? AND conversation_id = ?`,
      rows: `SELECT conversation_id, peer, read_seq FROM ${ks}.conversation_rows WHERE user_id = ?`,
    };
  }

  async putRow(userId: string, conversationId: string, peer: string): Promise<void> {
    await this.session.write(this.q.putRow, [peer, this.key(userId), conversationId]);
  }

  /** The highest read seq written wins, in any order of arrival (read-seqs.ts). */
  async putReadSeq(userId: string, conversationId: string, seq: number): Promise<void> {
    await this.session.write(this.q.putReadSeq, [readSeqWriteTime(seq), BigInt(seq), this.key(userId), conversationId]);
  }

  /** Every conversation of the user, page by page; a row with a read seq but no peer yet is left out. */
  async rows(userId: string): Promise<KeptConversation[]> {
    const rows = await this.session.readAll(this.q.rows, [this.key(userId)]);
    const kept: KeptConversation[] = [];
    for (const row of rows) {
      const peer: unknown = row.get('peer');
      if (peer === null || peer === undefined) continue;
      const readSeq: unknown = row.get('read_seq');
      kept.push({ conversationId: toText('conversation_id', row.get('conversation_id')), peer: toText('peer', peer), readSeq: readSeq === null || readSeq === undefined ? 0 : toNumber('read_seq', readSeq) });
    }
    return kept;
  }

  private key(id: string): string {
    return tenantKey(this.tenant, id);
  }
}
