/**
 * The durable part of the production store on Cassandra: accounts, history, delete-for-me marks
 * and sequence block reservations. Every write resolves once the cluster acknowledged it at the
 * store's consistency level (LOCAL_QUORUM by default: a majority of the local data center's
 * replicas); `durable()` waits for writes still in flight.
 */
import cassandra from 'cassandra-driver';
import type { AccountStore, HiddenStore, HistoryStore } from '../ports.ts';
import { CassandraAccounts } from './accounts.ts';
import { CassandraConversations } from './conversations.ts';
import { CassandraGroups } from './groups.ts';
import { CassandraStoreError } from './errors.ts';
import { CassandraHidden, CassandraHistory } from './history.ts';
import { ensureSchema, checkKeyspaceName, type Replication } from './schema.ts';
import { CassandraSequenceBlocks } from './sequence-blocks.ts';
import { Session, type Consistency, type QueryKind, type SerialConsistency } from './session.ts';

export interface CassandraStoreOptions {
  /** `host:port` of nodes to discover the cluster from. Default `127.0.0.1:9042`. */
  readonly contactPoints?: readonly string[];
  readonly localDataCenter?: string;
  readonly keyspace?: string;
  /** Used only when the keyspace is created. Default SimpleStrategy, replication factor 1. */
  readonly replication?: Replication;
  /** Default LOCAL_QUORUM; ONE is enough for a single node. */
  readonly consistency?: Consistency;
  /** For lightweight transactions. Default LOCAL_SERIAL. */
  readonly serialConsistency?: SerialConsistency;
  /** Partition keys are put under this tenant, so tenants (and test runs) share tables. Default none. */
  readonly tenant?: string;
  /** Seqs per history partition. Default 1000. */
  readonly historyBucketSize?: number;
  /** History and delete-for-me marks expire after this long. Default 180 days. */
  readonly historyTtlSeconds?: number;
  /** Milliseconds to wait for the first connection. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Told of every query (see Session). */
  readonly onQuery?: (kind: QueryKind) => void;
}

export interface CassandraPorts {
  readonly accounts: AccountStore;
  readonly history: HistoryStore;
  readonly hidden: HiddenStore;
  readonly sequenceBlocks: CassandraSequenceBlocks;
  readonly groups: CassandraGroups;
  readonly conversations: CassandraConversations;
  /** Resolves once every write issued before the call is acknowledged; rejects if one failed. */
  durable(): Promise<void>;
  close(): Promise<void>;
}

const DAY_SECONDS = 24 * 3600;

function checkTenant(tenant: string): string {
  if (!/^[A-Za-z0-9_.-]{0,64}$/.test(tenant)) throw new CassandraStoreError('badOptions', `tenant "${tenant}" is not 0-64 characters of [A-Za-z0-9_.-]`);
  return tenant;
}

/** Connects, creates the keyspace and tables when missing, and returns the ports. */
export async function openCassandraStore(options: CassandraStoreOptions = {}): Promise<CassandraPorts> {
  const keyspace = checkKeyspaceName(options.keyspace ?? 'tern');
  const tenant = checkTenant(options.tenant ?? '');
  const contactPoints = [...(options.contactPoints ?? ['127.0.0.1:9042'])];
  const client = new cassandra.Client({
    contactPoints,
    localDataCenter: options.localDataCenter ?? 'datacenter1',
    encoding: { useBigIntAsLong: true },
    socketOptions: { connectTimeout: options.connectTimeoutMs ?? 10_000 },
  });
  try {
    await client.connect();
    await ensureSchema(client, keyspace, options.replication ?? { class: 'SimpleStrategy', replicationFactor: 1 });
  } catch (error) {
    await client.shutdown().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new CassandraStoreError('unavailable', `cannot open Cassandra at ${contactPoints.join(', ')}: ${reason}`, { cause: error });
  }
  const session = new Session(client, { consistency: options.consistency ?? 'LOCAL_QUORUM', serialConsistency: options.serialConsistency ?? 'LOCAL_SERIAL', ...(options.onQuery ? { onQuery: options.onQuery } : {}) });
  const historyOptions = {
    keyspace,
    tenant,
    bucketSize: options.historyBucketSize ?? 1000,
    ttlSeconds: options.historyTtlSeconds ?? 180 * DAY_SECONDS,
  };
  return {
    accounts: new CassandraAccounts(session, keyspace, tenant),
    history: new CassandraHistory(session, historyOptions),
    hidden: new CassandraHidden(session, historyOptions),
    sequenceBlocks: new CassandraSequenceBlocks(session, keyspace, tenant),
    groups: new CassandraGroups(session, keyspace, tenant),
    conversations: new CassandraConversations(session, keyspace, tenant),
    durable: () => session.settled(),
    close: async () => {
      await session.settled().catch(() => undefined);
      await client.shutdown();
    },
  };
}
