/**
 * Durable reservations of sequence blocks: per conversation, the highest seq ever reserved. A
 * reservation moves it forward with a lightweight transaction (`UPDATE … IF reserved = ?`), so
 * two reservers never get overlapping blocks and the value never moves back. Every seq handed
 * out lies in a block reserved here first, so after any loss of the fast counter (storage/redis/
 * sequences.ts) a fresh block starts above every seq already used.
 */
import type { SequenceBlock, SequenceReserver } from '../redis/sequences.ts';
import { CassandraStoreError, toNumber } from './errors.ts';
import { tenantKey } from './history.ts';
import type { Row, Session } from './session.ts';

/** LWT rounds lost to other reservers before giving up (each loss still learns the current value). */
const MAX_ROUNDS = 16;

function reservedOf(row: Row | undefined): number | undefined {
  const value: unknown = row?.get('reserved');
  return value === undefined || value === null ? undefined : toNumber('reserved', value);
}

export class CassandraSequenceBlocks implements SequenceReserver {
  private readonly q: Record<'select' | 'create' | 'advance', string>;

  constructor(
    private readonly session: Session,
    keyspace: string,
    private readonly tenant: string,
  ) {
    this.q = {
      select: `SELECT reserved FROM ${keyspace}.sequence_blocks WHERE conversation_id = ?`,
      create: `INSERT INTO ${keyspace}.sequence_blocks (conversation_id, reserved) VALUES (?, ?) IF NOT EXISTS`,
      advance: `UPDATE ${keyspace}.sequence_blocks SET reserved = ? WHERE conversation_id = ? IF reserved = ?`,
    };
  }

  async reserve(conversationId: string, size: number): Promise<SequenceBlock> {
    const key = tenantKey(this.tenant, conversationId);
    // A plain read is a guess; the conditional write below is what decides.
    let current = reservedOf((await this.session.read(this.q.select, [key]))[0]);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const from = current ?? 0;
      const result =
        current === undefined
          ? await this.session.conditional(this.q.create, [key, BigInt(size)])
          : await this.session.conditional(this.q.advance, [BigInt(from + size), key, BigInt(from)]);
      if (result.applied) return { after: from, upTo: from + size };
      // Not applied: the answer carries the value that won.
      current = reservedOf(result.row);
    }
    throw new CassandraStoreError('contention', `could not reserve a sequence block for ${conversationId} in ${MAX_ROUNDS} rounds`);
  }

  /** The highest seq reserved so far (0 when none), for tests and operators. */
  async reserved(conversationId: string): Promise<number> {
    return reservedOf((await this.session.read(this.q.select, [tenantKey(this.tenant, conversationId)]))[0]) ?? 0;
  }
}
