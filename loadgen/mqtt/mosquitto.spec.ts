import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopProcess } from '../../spec/support/process.ts';
import { runCoordinator } from '../coordinator.ts';
import { loadScenario } from '../scenario.ts';
import { MqttClient } from './client.ts';
import type { PublishPacket } from './packets.ts';

const installed = !spawnSync('mosquitto', ['-h']).error;

/** A throwaway mosquitto on loopback, anonymous, no persistence; resolves once it is running. */
async function startMosquitto(): Promise<{ child: ChildProcess; port: number; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 100000', 'log_dest stderr', 'log_type information', ''].join('\n'));
  const child = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`mosquitto did not start:\n${output}`));
    }, 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (output.includes(' running')) return; // started: the rest of its log is read and dropped
      output += chunk.toString();
      if (!output.includes(' running')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}:\n${output}`)));
  });
  return { child, port, dir };
}

describe('mqtt load runs against mosquitto', function () {
  this.timeout(60_000);
  let broker: Awaited<ReturnType<typeof startMosquitto>> | undefined;
  const clients: MqttClient[] = [];

  before(async function () {
    if (!installed) return this.skip();
    broker = await startMosquitto();
  });
  after(async () => {
    for (const c of clients) c.close();
    if (!broker) return;
    await stopProcess(broker.child);
    rmSync(broker.dir, { recursive: true, force: true });
  });

  const client = (clientId: string) => {
    const c = new MqttClient({ host: '127.0.0.1', port: broker?.port ?? 0, clientId, reconnect: false });
    clients.push(c);
    return c;
  };

  it('holds QoS 1 messages for a device while it is away and delivers them in order when it returns', async () => {
    const receiver = client(`r${Date.now()}`);
    assert.equal(await receiver.connect(), false, 'a new session');
    await receiver.subscribe(['u/r'], 1);
    receiver.disconnect();
    await once(receiver, 'disconnected');

    const sender = client(`s${Date.now()}`);
    await sender.connect();
    for (let i = 1; i <= 5; i++) await sender.publish('u/r', Buffer.from(String(i)));

    const got: string[] = [];
    const all = new Promise<void>((resolve) =>
      receiver.on('message', (p: PublishPacket) => {
        if (got.push(p.payload.toString()) === 5) resolve();
      }),
    );
    assert.equal(await receiver.connect(), true, 'the broker kept the session');
    await all;
    assert.deepEqual(got, ['1', '2', '3', '4', '5']);
  });

  it('runs the 1:1 scenario through the broker with every acknowledged message delivered once, in order', async () => {
    const scenario = loadScenario(undefined, {
      protocol: 'mqtt',
      port: broker?.port ?? 0,
      users: 16,
      devicesPerUser: 2,
      workers: 1,
      rampPerSecond: 400,
      durationSeconds: 2,
      messagesPerUserPerSecond: 3,
      drainSeconds: 8,
      out: 'var/loadgen-spec',
      userPrefix: `m${Date.now().toString(36)}`,
    });
    const result = await runCoordinator(scenario, [], () => undefined);
    assert.ok(result.check.acked > 40, `only ${result.check.acked} acked`);
    assert.equal(result.check.expectedDeliveries, result.check.acked * 2, "both of the partner's devices, no carbons");
    assert.deepEqual([result.check.losses, result.check.duplicates, result.check.orderViolations], [0, 0, 0]);
    assert.equal(result.passed, true);
  });
});
