/**
 * Publishes this node's load to the board at an interval, and answers "where should a client
 * connect" from the board's fresh reports, emptiest first.
 */
import type { Clock } from '../logic/clock.ts';
import { rank, type LoadBoard, type LoadReport } from './board.ts';

export interface DispatchEndpoint {
  readonly host: string;
  readonly port: number;
  readonly tlsPort?: number;
}

export interface DispatcherOptions {
  readonly board: LoadBoard;
  /** This node's load now. */
  readonly measure: () => Promise<LoadReport>;
  readonly clock: Clock;
  readonly intervalMs: number;
  /** Reports older than this are ignored: three intervals, so one lost publish does not matter. */
  readonly staleMs: number;
  /** Endpoints in an answer. */
  readonly limit: number;
  readonly onError: (error: unknown) => void;
}

export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private nodeId: string | undefined;
  /** Clients sent to each node since its report of `at`; bounded by the nodes on the board. */
  private readonly handedOut = new Map<string, { at: number; count: number }>();

  constructor(private readonly options: DispatcherOptions) {}

  async start(): Promise<void> {
    await this.publish();
    this.timer = setInterval(() => void this.publish().catch(this.options.onError), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.nodeId !== undefined) await this.options.board.withdraw(this.nodeId);
  }

  async endpoints(): Promise<DispatchEndpoint[]> {
    const reports = await this.options.board.reports();
    const counts = new Map<string, number>();
    for (const report of reports) {
      const handed = this.handedOut.get(report.nodeId);
      if (handed && handed.at === report.at) counts.set(report.nodeId, handed.count);
      else this.handedOut.delete(report.nodeId);
    }
    const ranked = rank(reports, this.options.clock.now(), this.options.staleMs, counts).slice(0, this.options.limit);
    const first = ranked[0];
    if (first) this.handedOut.set(first.nodeId, { at: first.at, count: (counts.get(first.nodeId) ?? 0) + 1 });
    return ranked.map((r) => ({ host: r.host, port: r.port, ...(r.tlsPort !== undefined ? { tlsPort: r.tlsPort } : {}) }));
  }

  /** The other nodes, best first: where this node's clients should go when it drains. */
  async alternatives(): Promise<DispatchEndpoint[]> {
    const reports = await this.options.board.reports();
    const others = reports.filter((r) => r.nodeId !== this.nodeId);
    return rank(others, this.options.clock.now(), this.options.staleMs).slice(0, this.options.limit).map((r) => ({ host: r.host, port: r.port, ...(r.tlsPort !== undefined ? { tlsPort: r.tlsPort } : {}) }));
  }

  private async publish(): Promise<void> {
    const report = await this.options.measure();
    this.nodeId = report.nodeId;
    await this.options.board.publish(report);
  }
}
