/**
 * The dispatch board on Redis: one hash `<prefix>dispatch`, node id → its latest load report as
 * JSON. A node that dies stops refreshing its field; readers drop reports older than their
 * staleness bound, and the field is overwritten when the node id comes back.
 */
import type { Redis } from 'ioredis';
import type { LoadBoard, LoadReport } from '../../server/dispatch/board.ts';

/** Reports kept in the hash: policy at the limit is to ignore the rest (a deployment has far fewer nodes). */
const MAX_NODES = 1_000;

export class RedisLoadBoard implements LoadBoard {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.key = `${keyPrefix}dispatch`;
  }

  async publish(report: LoadReport): Promise<void> {
    await this.redis.hset(this.key, report.nodeId, JSON.stringify(report));
  }

  async reports(): Promise<LoadReport[]> {
    const fields = await this.redis.hgetall(this.key);
    const reports: LoadReport[] = [];
    for (const value of Object.values(fields).slice(0, MAX_NODES)) {
      try {
        reports.push(JSON.parse(value) as LoadReport);
      } catch {
        // A field that is not a report (written by something else) is skipped, not fatal.
      }
    }
    return reports;
  }

  async withdraw(nodeId: string): Promise<void> {
    await this.redis.hdel(this.key, nodeId);
  }
}
