import assert from 'node:assert/strict';
import { isSlowRoomDevice, loadScenario } from '../../loadgen/scenario.ts';

const slowIn = (size: number, share: number) => Array.from({ length: size }, (_, i) => i).filter((i) => isSlowRoomDevice(i, share));

describe('load generator slow room devices', () => {
  it('makes the share of a room slow, rounded down, spread over the room', () => {
    assert.deepEqual(slowIn(20, 0.1), [9, 19]);
    assert.equal(slowIn(100, 0.1).length, 10);
    assert.equal(slowIn(100, 0.29).length, 29, '0.29 × 100 is 28.999… in floating point');
    assert.equal(slowIn(9, 0.1).length, 0, 'a room of 9 at 10 % has no slow device');
    assert.deepEqual(slowIn(16, 0.25), [3, 7, 11, 15]);
    assert.deepEqual(slowIn(16, 0), []);
  });

  it('takes the share and the stall from the scenario and refuses shares it cannot honour', () => {
    const scenario = loadScenario(undefined, { roomSize: 8, roomSlowShare: 0.25, roomStallMs: 500 });
    assert.equal(scenario.roomSlowShare, 0.25);
    assert.equal(scenario.roomStallMs, 500);
    assert.equal(loadScenario(undefined, {}).roomSlowShare, 0, 'no slow devices unless asked');
    assert.throws(() => loadScenario(undefined, { roomSlowShare: 0.1 }), /roomSlowShare needs roomSize/);
    assert.throws(() => loadScenario(undefined, { roomSize: 8, roomSlowShare: 1 }), /roomSlowShare must be within/);
    assert.throws(() => loadScenario(undefined, { roomSize: 8, roomSlowShare: 0.1, roomStallMs: 0 }), /roomStallMs must be > 0/);
    assert.throws(() => loadScenario(undefined, { roomSize: 8, messageBytes: 1025 }), /room messages are at most 1024 bytes/);
  });
});
