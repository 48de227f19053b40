import assert from 'node:assert/strict';
import { Client } from '../../client/client.ts';
import { dispatch, tcpEndpoints } from '../../client/dispatch.ts';
import { Platform } from '../../protocol/bodies.ts';
import { rank, type LoadBoard, type LoadReport } from '../../server/dispatch/board.ts';
import { Dispatcher } from '../../server/dispatch/dispatcher.ts';
import { call } from '../support/admin.ts';
import { useSpawnedServer } from '../support/fixtures.ts';
import { freePort } from '../support/process.ts';
import { ManualClock } from '../support/server.ts';

function report(nodeId: string, connections: number, overrides: Partial<LoadReport> = {}): LoadReport {
  return { nodeId, host: `${nodeId}.example`, port: 7000, connections, capacity: 100, cpu: 0, at: 1_000, ...overrides };
}

describe('dispatch', function () {
  this.timeout(30_000);

  it('ranks fresh nodes with room emptiest first, by connections or CPU, whichever is fuller', () => {
    const reports = [report('a', 50), report('b', 10), report('c', 30, { cpu: 0.9 }), report('stale', 0, { at: 0 }), report('full', 100)];
    assert.deepEqual(rank(reports, 1_500, 1_000).map((r) => r.nodeId), ['b', 'a', 'c']);
  });

  it('orders nodes of equal CPU (one machine, a busy one) by their fill', () => {
    const reports = [report('a', 40, { cpu: 1 }), report('b', 5, { cpu: 0.97 })];
    assert.deepEqual(rank(reports, 1_000, 1_000).map((r) => r.nodeId), ['b', 'a']);
  });

  it('counts the clients it handed out since a report, so a burst is spread over the nodes', () => {
    const reports = [report('a', 10), report('b', 12)];
    assert.deepEqual(rank(reports, 1_000, 1_000, new Map([['a', 5]])).map((r) => r.nodeId), ['b', 'a']);
  });

  it('sends a burst of clients between two reports to the emptier node until it is as full as the other', async () => {
    const clock = new ManualClock(1_000);
    const reports = [report('a', 10), report('b', 13)];
    const board: LoadBoard = { reports: () => Promise.resolve(reports), publish: () => Promise.resolve(), withdraw: () => Promise.resolve() };
    const dispatcher = new Dispatcher({ board, measure: () => Promise.resolve(report('a', 10)), clock, intervalMs: 60_000, staleMs: 10_000, limit: 2, onError: () => undefined });
    const firsts: string[] = [];
    for (let i = 0; i < 6; i++) firsts.push((await dispatcher.endpoints())[0]!.host);
    assert.deepEqual(firsts.slice(0, 3), ['a.example', 'a.example', 'a.example'], 'a first while it is emptier');
    assert.ok(firsts.slice(3).includes('b.example'), 'then b gets its share');
  });

  describe('the dispatch listener of one node', () => {
    const spawned = useSpawnedServer('dispatch');

    it('answers itself on the embedded store, and a client connects where it says', async () => {
      const server = await spawned.start(['--workers', '1', '--dispatch-port', '0', '--dispatch-host', '127.0.0.1']);
      const { port } = spawned;
      const base = /dispatch (http:\/\/[^/\s]+)\/dispatch/.exec(server.output())?.[1];
      assert.ok(base, 'the dispatch listener is announced');
      const endpoints = await dispatch(base, 'alice');
      assert.deepEqual(endpoints, [{ host: '127.0.0.1', port }]);
      const [endpoint, ...alternates] = tcpEndpoints(endpoints);
      const alice = new Client({ endpoint: endpoint!, alternateEndpoints: alternates, userId: 'alice', deviceId: 'alice-phone', platform: Platform.ios, password: 'pw', register: true, reconnect: false });
      spawned.closeAfter(alice);
      await alice.connect();
      assert.equal((await call(`${base}/dispatch?user=bad%20id`)).status, 400);
      assert.equal((await call(`${base}/metrics`)).status, 404, 'only /dispatch is served on the public listener');
    });

    it('lets the SDK ask dispatch before connecting, and fall back to the configured address when dispatch cannot answer', async () => {
      const server = await spawned.start(['--workers', '1', '--dispatch-port', '0', '--dispatch-host', '127.0.0.1']);
      const { port } = spawned;
      const base = /dispatch (http:\/\/[^/\s]+)\/dispatch/.exec(server.output())?.[1];
      assert.ok(base);
      // Nothing listens on the configured address: only the dispatched one can serve.
      const nowhere = { host: '127.0.0.1', port: await freePort() };
      const options = { userId: 'alice', deviceId: 'alice-phone', platform: Platform.ios, password: 'pw', reconnect: false as const };
      const viaDispatch = new Client({ ...options, register: true, endpoint: nowhere, dispatchUrl: base });
      spawned.closeAfter(viaDispatch);
      await viaDispatch.connect();
      assert.equal(viaDispatch.status, 'ready', 'connected where dispatch said, not to the configured address');
      viaDispatch.close();
      const failures: Error[] = [];
      const fallback = new Client({ ...options, endpoint: { host: '127.0.0.1', port }, dispatchUrl: `http://${nowhere.host}:${nowhere.port}`, dispatchTimeoutMs: 1_000 });
      spawned.closeAfter(fallback);
      fallback.on('dispatchFailed', (error) => failures.push(error));
      await fallback.connect();
      assert.equal(fallback.status, 'ready');
      assert.equal(failures.length, 1, 'the failed dispatch is reported');
    });
  });
});
