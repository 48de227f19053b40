/** A Redis server of a test's own, on a free port, started and stopped with the ops scripts. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../spec/support/process.ts';

const run = promisify(execFile);

export class OwnRedis {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** Starts a fresh, empty server. */
  static async start(): Promise<OwnRedis> {
    const port = await freePort();
    const redis = new OwnRedis(port, join(tmpdir(), `tern-redis-it-${port}-${randomBytes(3).toString('hex')}`));
    await redis.script('start.sh', '--dir', redis.dir);
    return redis;
  }

  /** Stops the server, deletes its data and starts an empty one on the same port: a Redis that lost everything. */
  async restartEmpty(): Promise<void> {
    await this.script('stop.sh');
    await this.script('start.sh', '--dir', this.dir);
  }

  /** Stops the server and starts it again from its own AOF. */
  async restartKeepingData(): Promise<void> {
    await this.script('stop.sh', '--keep');
    await this.script('start.sh', '--dir', this.dir);
  }

  /** Stops the server keeping its AOF; `resume` starts it again on the same port. */
  async pause(): Promise<void> {
    await this.script('stop.sh', '--keep');
  }

  async resume(): Promise<void> {
    await this.script('start.sh', '--dir', this.dir);
  }

  async stop(): Promise<void> {
    await this.script('stop.sh');
  }

  private async script(name: string, ...args: string[]): Promise<void> {
    try {
      await run(`ops/redis/${name}`, args, { env: { ...process.env, REDIS_PORT: String(this.port) }, timeout: 60_000 });
    } catch (error) {
      const detail = error instanceof Error && 'stderr' in error ? String(error.stderr) : String(error);
      throw new Error(`ops/redis/${name} ${args.join(' ')} failed on port ${this.port}: ${detail}`, { cause: error });
    }
  }
}
