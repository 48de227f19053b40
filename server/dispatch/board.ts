/**
 * Dispatch: which gateway a client should connect to. Each node publishes its load to a board at
 * an interval; `rank` orders the fresh reports emptiest first, so a node that has just joined
 * fills up before the others. The board is a port: one node (embedded store) is its own board;
 * nodes sharing Redis publish to one hash there (storage/redis/load-board.ts).
 */

export interface LoadReport {
  readonly nodeId: string;
  /** Where clients reach this node (its public address, not its bind address). */
  readonly host: string;
  readonly port: number;
  readonly tlsPort?: number;
  /** Open connections and the most it accepts, over all its gateway processes. */
  readonly connections: number;
  readonly capacity: number;
  /** Busy fraction of the node's cores, 0–1. */
  readonly cpu: number;
  /** Connections accepted per second since the node's previous report (reconnect storms show here). */
  readonly acceptRate?: number;
  /** When the report was made, ms. */
  readonly at: number;
}

export interface LoadBoard {
  publish(report: LoadReport): Promise<void>;
  /** Every node's latest report, stale ones included (rank drops them). */
  reports(): Promise<LoadReport[]>;
  /** Takes this node off the board. */
  withdraw(nodeId: string): Promise<void>;
}

/** One node: the board holds its own report only. */
export class LocalBoard implements LoadBoard {
  private latest: LoadReport | undefined;

  publish(report: LoadReport): Promise<void> {
    this.latest = report;
    return Promise.resolve();
  }

  reports(): Promise<LoadReport[]> {
    return Promise.resolve(this.latest ? [this.latest] : []);
  }

  withdraw(): Promise<void> {
    this.latest = undefined;
    return Promise.resolve();
  }
}

/**
 * Fresh, non-full reports, emptiest first by the larger of connection fill and CPU (in steps of a
 * tenth, so that noise in the CPU figure does not reorder nodes), then by fill; `handedOut` adds
 * the clients already sent to a node since its report, so that a burst of dispatches between two
 * reports does not send everyone to the same node.
 */
export function rank(reports: readonly LoadReport[], now: number, staleMs: number, handedOut: ReadonlyMap<string, number> = new Map()): LoadReport[] {
  const fill = (r: LoadReport) => (r.connections + (handedOut.get(r.nodeId) ?? 0)) / r.capacity;
  const score = (r: LoadReport) => Math.max(fill(r), Math.round(r.cpu * 10) / 10);
  return reports
    .filter((r) => now - r.at <= staleMs && r.capacity > 0 && fill(r) < 1)
    .sort((a, b) => score(a) - score(b) || fill(a) - fill(b) || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}
