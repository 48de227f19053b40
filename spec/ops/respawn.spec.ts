import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { adminUrl, call } from '../support/admin.ts';
import { useSpawnedServer } from '../support/fixtures.ts';
import { RawDevice } from '../support/raw-device.ts';
import { waitUntil } from '../support/server.ts';

const TOKEN = 'respawn-token';

function children(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

async function devicesOf(base: string, userId: string): Promise<Array<{ connectionId: string }>> {
  const response = await call(`${base}/admin/users/${userId}/devices`, { token: TOKEN });
  return (response.body as { devices: Array<{ connectionId: string }> }).devices;
}

describe('gateway worker respawn', function () {
  this.timeout(60_000);
  const spawned = useSpawnedServer('respawn');

  it('replaces a worker killed with SIGKILL, and its sessions leave presence', async () => {
    const server = await spawned.start(['--workers', '2', '--admin-token', TOKEN]);
    // In the order of login: the users' connections, to compare with presence.
    const devices: RawDevice[] = [];
    const base = adminUrl(server);
    const primary = server.child.pid!;
    const before = children(primary);
    assert.equal(before.length, 2);

    // Connections are spread over the workers; log in users until both hold some.
    const users: string[] = [];
    const workerOf = new Map<string, string>();
    for (let i = 0; i < 12 && new Set(workerOf.values()).size < 2; i++) {
      const userId = `u${i}`;
      devices.push(await spawned.device(userId));
      users.push(userId);
      const [device] = await devicesOf(base, userId);
      workerOf.set(userId, device!.connectionId.split('.')[0]!);
    }
    assert.equal(new Set(workerOf.values()).size, 2, 'sessions on both workers');

    const victim = before[0]!;
    process.kill(victim, 'SIGKILL');
    await waitUntil(() => children(primary).length === 2 && !children(primary).includes(victim), 'a new worker replaces the killed one', 15_000);

    // Exactly the users of one worker lost their sessions; the others are still online.
    const online = new Map<string, boolean>();
    await waitUntil(() => devices.some((d) => d.isClosed), 'the killed worker\'s connections are closed', 5_000);
    for (const userId of users) online.set(userId, (await devicesOf(base, userId)).length > 0);
    const deadWorker = [...workerOf].find(([userId]) => !online.get(userId))?.[1];
    assert.ok(deadWorker !== undefined, 'some sessions left presence');
    for (const [userId, worker] of workerOf) assert.equal(online.get(userId), worker !== deadWorker, `${userId} on worker ${worker}`);
    for (const [i, userId] of users.entries()) assert.equal(devices[i]!.isClosed, !online.get(userId), `${userId}'s connection state matches presence`);

    // The replacement serves once it has loaded and listens: new logins land on it too.
    const survivors = new Set([...workerOf.values()].filter((w) => w !== deadWorker));
    let onReplacement = false;
    const deadline = Date.now() + 15_000;
    for (let i = 0; i < 60 && !onReplacement && Date.now() < deadline; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      const userId = `v${i}`;
      devices.push(await spawned.device(userId));
      const [device] = await devicesOf(base, userId);
      const worker = device!.connectionId.split('.')[0]!;
      onReplacement = worker !== deadWorker && !survivors.has(worker);
    }
    assert.ok(onReplacement, 'a login is served by the new worker');
  });
});
