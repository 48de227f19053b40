import assert from 'node:assert/strict';
import { parseFault } from '../../loadgen/faults.ts';
import { loadScenario } from '../../loadgen/scenario.ts';

describe('load generator faults', () => {
  it('reads redis-flush@S with the Redis it acts on, and refuses a fault without one or of an unknown kind', () => {
    assert.deepEqual(parseFault('redis-flush@5', '127.0.0.1:6391'), { kind: 'redis-flush', atSeconds: 5, redis: { host: '127.0.0.1', port: 6391 } });
    assert.equal(parseFault('', ''), undefined);
    assert.throws(() => parseFault('redis-flush@5', ''), /--fault-redis/);
    assert.throws(() => parseFault('redis-kill@5', '127.0.0.1:6391'), /unknown fault/);
    assert.throws(() => loadScenario(undefined, { fault: 'redis-flush@5' }), /invalid scenario[\s\S]*--fault-redis/);
  });
});
