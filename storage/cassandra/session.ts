/**
 * The one place queries run: every statement prepared, every query at the store's consistency
 * level (lightweight transactions at its serial level), idempotent writes flagged so the driver
 * may retry them or run them speculatively, and writes in flight tracked for `durable()`.
 */
import cassandra from 'cassandra-driver';
import { Admission } from '../admission.ts';
import { CassandraStoreError } from './errors.ts';

export type Consistency = 'ONE' | 'LOCAL_ONE' | 'QUORUM' | 'LOCAL_QUORUM' | 'EACH_QUORUM' | 'ALL';
export type SerialConsistency = 'SERIAL' | 'LOCAL_SERIAL';

const levels = cassandra.types.consistencies;
const consistencyCode: Record<Consistency | SerialConsistency, number> = {
  ONE: levels.one,
  LOCAL_ONE: levels.localOne,
  QUORUM: levels.quorum,
  LOCAL_QUORUM: levels.localQuorum,
  EACH_QUORUM: levels.eachQuorum,
  ALL: levels.all,
  SERIAL: levels.serial,
  LOCAL_SERIAL: levels.localSerial,
};

export type Param = string | number | bigint | boolean | null;
export type Row = cassandra.types.Row;

export interface SessionOptions {
  readonly consistency: Consistency;
  readonly serialConsistency: SerialConsistency;
  /**
   * Queries handed to the driver at once. Beyond it they wait here in call order, so a burst
   * (clients resending after an outage) queues instead of failing with the driver's
   * BusyConnectionError (2,048 in flight on one connection).
   */
  readonly maxInFlight?: number;
  /** Queries waiting for a slot; beyond it a query fails at once as `unavailable` (shed load). */
  readonly maxQueued?: number;
  /** Told of every query handed to the driver (metrics, benches counting what a message costs). */
  readonly onQuery?: (kind: QueryKind) => void;
}

export type QueryKind = 'read' | 'write' | 'conditional';

export const DEFAULT_MAX_IN_FLIGHT = 1024;
export const DEFAULT_MAX_QUEUED = 100_000;

export class Session {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly admission: Admission;

  constructor(
    readonly client: cassandra.Client,
    private readonly options: SessionOptions,
  ) {
    this.admission = new Admission(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, options.maxQueued ?? DEFAULT_MAX_QUEUED);
  }

  async read(query: string, params: readonly Param[]): Promise<Row[]> {
    const result = await this.run('read', query, params, { isIdempotent: true });
    return result.rows;
  }

  /** Every row of a query, page by page (a group's members may be 100,000 rows). */
  async readAll(query: string, params: readonly Param[], fetchSize = 5000): Promise<Row[]> {
    const rows: Row[] = [];
    let pageState: string | undefined;
    do {
      const result = await this.run('read', query, params, { isIdempotent: true, fetchSize, ...(pageState ? { pageState } : {}) });
      rows.push(...result.rows);
      pageState = result.pageState ?? undefined;
    } while (pageState);
    return rows;
  }

  /** A write that has the same effect when applied twice (an upsert of the same values). */
  async write(query: string, params: readonly Param[]): Promise<void> {
    await this.track(this.run('write', query, params, { isIdempotent: true }));
  }

  /** A lightweight transaction (IF …): not idempotent, since a retry of an applied one answers "not applied". */
  async conditional(query: string, params: readonly Param[]): Promise<{ applied: boolean; row: Row | undefined }> {
    const result = await this.track(this.run('conditional', query, params, { isIdempotent: false, serialConsistency: consistencyCode[this.options.serialConsistency] }));
    return { applied: result.wasApplied(), row: result.rows[0] };
  }

  /** Resolves once every write issued before the call has been acknowledged; rejects if one of them failed. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private track<T>(write: Promise<T>): Promise<T> {
    this.inFlight.add(write);
    const forget = (): void => {
      this.inFlight.delete(write);
    };
    write.then(forget, forget);
    return write;
  }

  private async run(kind: QueryKind, query: string, params: readonly Param[], options: cassandra.QueryOptions): Promise<cassandra.types.ResultSet> {
    if (!(await this.admission.enter())) throw new CassandraStoreError('unavailable', 'Cassandra: too many queries waiting');
    this.options.onQuery?.(kind);
    try {
      return await this.client.execute(query, [...params], { prepare: true, consistency: consistencyCode[this.options.consistency], ...options });
    } catch (error) {
      throw classify(error);
    } finally {
      this.admission.leave();
    }
  }
}

/** Driver errors as store errors: what a retry may fix is `unavailable`, the rest is passed on. */
function classify(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const name = error.name;
  if (name === 'NoHostAvailableError' || name === 'OperationTimedOutError' || name === 'ResponseError' && /timeout|unavailable|overloaded/i.test(error.message)) {
    return new CassandraStoreError('unavailable', `Cassandra: ${error.message}`, { cause: error });
  }
  return error;
}
