import assert from 'node:assert/strict';
import { ErrorCode } from '../../protocol/errors.ts';
import { adminUrl, call } from '../support/admin.ts';
import { parsePrometheus, total } from '../support/prometheus.ts';
import { useSpawnedServer } from '../support/fixtures.ts';
import { RawDevice } from '../support/raw-device.ts';
import { waitUntil } from '../support/server.ts';

async function scrape(base: string) {
  const response = await call(`${base}/metrics`);
  assert.equal(response.status, 200);
  return parsePrometheus(response.text);
}

describe('/metrics', function () {
  this.timeout(60_000);
  const spawned = useSpawnedServer('metrics');

  for (const workers of [1, 2]) {
    it(`parses as Prometheus text and its counters move with traffic (--workers ${workers})`, async () => {
      const server = await spawned.start(['--workers', String(workers)]);
      const { port } = spawned;
      const base = adminUrl(server);
      const before = await scrape(base);
      for (const name of ['tern_connections', 'tern_logins_total', 'tern_login_failures_total', 'tern_messages_in_total', 'tern_pushes_total', 'tern_push_retransmits_total', 'tern_push_window_in_flight', 'tern_slow_consumer_closes_total', 'tern_sync_pages_total', 'tern_sync_bytes_total', 'tern_store_commit_seconds', 'tern_event_loop_lag_seconds']) {
        assert.ok(before.types.has(name), `${name} is exported`);
      }
      assert.equal(total(before.samples, 'tern_messages_in_total'), 0);
      const workerLabels = new Set(before.samples.filter((s) => s.name === 'tern_frames_in_total').map((s) => s.labels.worker));
      assert.equal(workerLabels.size, workers, 'one series per gateway worker');

      const alice = await spawned.device('alice');
      const bob = await spawned.device('bob');
      let pushed = 0;
      bob.onPush = () => pushed++;
      const acks: number[] = [];
      for (let i = 0; i < 5; i++) alice.send(`m${i}`, 'bob', `hello ${i}`, (ack) => ack && acks.push(ack.seq));
      await waitUntil(() => acks.length === 5 && pushed === 5, 'five messages acknowledged and pushed');
      await assert.rejects(RawDevice.open(port, 'bob', { register: false, deviceId: 'bob-web', password: 'wrong' }), /login bob/);

      const after = await scrape(base);
      assert.equal(total(after.samples, 'tern_messages_in_total'), 5);
      assert.equal(total(after.samples, 'tern_pushes_total'), 5);
      assert.equal(total(after.samples, 'tern_logins_total'), 2);
      assert.equal(total(after.samples, 'tern_login_failures_total', { code: String(ErrorCode.badCredentials) }), 1);
      assert.equal(total(after.samples, 'tern_connections', { state: 'authenticated', transport: 'tcp' }), 2);
      assert.equal(total(after.samples, 'tern_store_commit_seconds_count'), 5, 'one commit timed per message');
      assert.equal(total(after.samples, 'tern_online', { kind: 'users' }), 2);
      assert.ok(total(after.samples, 'tern_frames_in_total') > total(before.samples, 'tern_frames_in_total'));
      if (workers > 1) assert.ok(after.samples.some((s) => s.name === 'tern_event_loop_lag_seconds' && s.labels.process?.startsWith('gateway-')), 'each worker reports its event-loop lag');
    });
  }
});
