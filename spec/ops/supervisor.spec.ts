import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { Supervisor } from '../../server/cluster/supervisor.ts';
import { ManualClock } from '../support/server.ts';

/** Just what the supervisor uses of a cluster worker. */
class FakeWorker extends EventEmitter {
  static nextId = 1;
  readonly id = FakeWorker.nextId++;
  dead = false;
  readonly signals: string[] = [];
  readonly process = Object.assign(new EventEmitter(), {
    kill: (signal: string) => {
      this.signals.push(signal);
      this.exit(null, signal);
    },
  });
  isDead(): boolean {
    return this.dead;
  }
  exit(code: number | null, signal: string | null = null): void {
    if (this.dead) return;
    this.dead = true;
    this.process.emit('exit', code, signal);
    this.emit('exit', code, signal);
  }
}

describe('the worker supervisor', () => {
  function start(count: number, clock: ManualClock) {
    const forked: FakeWorker[] = [];
    const events: string[] = [];
    const supervisor = new Supervisor({
      count,
      clock,
      maxRestarts: 3,
      windowMs: 60_000,
      logger: (event) => events.push(event),
      fork: () => {
        const worker = new FakeWorker();
        forked.push(worker);
        return worker as unknown as Worker;
      },
    });
    supervisor.start();
    return { supervisor, forked, events };
  }

  it('replaces a worker that exits, keeping the count', () => {
    const { supervisor, forked } = start(2, new ManualClock());
    forked[0]!.exit(null, 'SIGKILL');
    assert.equal(forked.length, 3);
    assert.equal(supervisor.workers.length, 2);
    assert.ok(!supervisor.workers.includes(forked[0] as unknown as Worker));
  });

  it('stops replacing in a crash loop (3 in a minute) and replaces again once the minute has passed', () => {
    const clock = new ManualClock();
    const { supervisor, forked, events } = start(2, clock);
    const first = forked[0]!;
    for (let i = 0; i < 3; i++) forked.at(-1)!.exit(1);
    assert.equal(forked.length, 5, 'three replacements');
    first.exit(1);
    assert.equal(forked.length, 5, 'the fourth crash in the minute is not replaced');
    assert.ok(events.includes('respawn-limit'));
    assert.equal(supervisor.workers.length, 1);
    clock.advance(60_001);
    forked.at(-1)!.exit(1);
    assert.equal(forked.length, 6, 'replaced again once the first crashes are a minute old');
    assert.equal(supervisor.workers.length, 1);
  });

  it('replaces nothing while stopping, and signals every worker with the given signal', async () => {
    const { supervisor, forked } = start(2, new ManualClock());
    await supervisor.stop('SIGTERM', 1_000);
    assert.deepEqual(forked.map((w) => w.signals), [['SIGTERM'], ['SIGTERM']]);
    assert.equal(forked.length, 2, 'no replacement for workers that exit on stop');
  });
});
