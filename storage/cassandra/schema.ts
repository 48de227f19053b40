/**
 * The keyspace and tables, created on start when missing. Every partition is small and every
 * query reads one partition:
 * - messages: one partition per conversation and bucket of BUCKET_SIZE seqs (bounded partitions
 *   however long a conversation lives), clustered by seq descending, so a history page is one
 *   slice read from the top. Rows expire with the history retention (TTL).
 * - message_buckets: the buckets of a conversation that hold messages, newest first, so a page
 *   for "the newest messages" knows where to start without probing.
 * - sequence_blocks: how far each conversation's sequence is reserved (see sequence-blocks.ts).
 * - conversation_rows: one partition per user, a row per 1:1 conversation (peer, read seq), what
 *   a conversation list is rebuilt from when Redis lost it (conversations.ts).
 */
import type cassandra from 'cassandra-driver';
import { CassandraStoreError } from './errors.ts';

export type Replication =
  | { readonly class: 'SimpleStrategy'; readonly replicationFactor: number }
  | { readonly class: 'NetworkTopologyStrategy'; readonly dataCenters: Readonly<Record<string, number>> };

const NAME = /^[a-z][a-z0-9_]{0,47}$/;

export function checkKeyspaceName(keyspace: string): string {
  if (!NAME.test(keyspace)) throw new CassandraStoreError('badOptions', `keyspace "${keyspace}" is not 1-48 characters of [a-z0-9_] starting with a letter`);
  return keyspace;
}

function replicationMap(replication: Replication): string {
  if (replication.class === 'SimpleStrategy') {
    if (!(replication.replicationFactor >= 1)) throw new CassandraStoreError('badOptions', 'replicationFactor must be at least 1');
    return `{'class': 'SimpleStrategy', 'replication_factor': ${Math.floor(replication.replicationFactor)}}`;
  }
  const dataCenters = Object.entries(replication.dataCenters).map(([dc, rf]) => {
    if (!/^[A-Za-z0-9_-]+$/.test(dc) || !(rf >= 1)) throw new CassandraStoreError('badOptions', `bad data center replication ${dc}: ${rf}`);
    return `'${dc}': ${Math.floor(rf)}`;
  });
  return `{'class': 'NetworkTopologyStrategy', ${dataCenters.join(', ')}}`;
}

function tables(keyspace: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${keyspace}.accounts (
      user_id text PRIMARY KEY, salt text, password_hash text, created_at bigint)`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.messages (
      conversation_id text, bucket bigint, seq bigint,
      message_id text, sender text, receiver text, kind int, content text, sent_at bigint, client_msg_id text, recalled boolean,
      PRIMARY KEY ((conversation_id, bucket), seq)
    ) WITH CLUSTERING ORDER BY (seq DESC)`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.message_buckets (
      conversation_id text, bucket bigint,
      PRIMARY KEY (conversation_id, bucket)
    ) WITH CLUSTERING ORDER BY (bucket DESC)`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.hidden (
      user_id text, conversation_id text, seq bigint,
      PRIMARY KEY ((user_id, conversation_id), seq))`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.sequence_blocks (
      conversation_id text PRIMARY KEY, reserved bigint)`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.chat_groups (
      group_id text PRIMARY KEY, state text)`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.group_members (
      group_id text, user_id text, member text,
      PRIMARY KEY (group_id, user_id))`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.user_groups (
      user_id text, group_id text,
      PRIMARY KEY (user_id, group_id))`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.conversation_rows (
      user_id text, conversation_id text, peer text, read_seq bigint,
      PRIMARY KEY (user_id, conversation_id))`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.group_read_seqs (
      group_id text, user_id text, read_seq bigint,
      PRIMARY KEY (group_id, user_id))`,
  ];
}

/** Creates what is missing. Schema changes wait for schema agreement, so the tables are usable when this resolves. */
export async function ensureSchema(client: cassandra.Client, keyspace: string, replication: Replication): Promise<void> {
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${checkKeyspaceName(keyspace)} WITH replication = ${replicationMap(replication)}`);
  for (const statement of tables(keyspace)) await client.execute(statement);
}
