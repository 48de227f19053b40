#!/usr/bin/env node
/**
 * tern-loadgen: simulated phones against a tern server, or the same conversations through an
 * MQTT broker for comparison.
 *
 *   npm run loadgen -- --users 2000 --workers 4 --source 127.0.0.2-127.0.0.5 --duration 30
 *   npm run loadgen -- --scenario loadgen/scenarios/pairs-1k.json --port 7000
 *   npm run loadgen -- --scenario loadgen/scenarios/pairs-1k.json --protocol mqtt --port 1883
 *   npm run loadgen -- agent --listen 0.0.0.0:7900          (on each extra host)
 *   npm run loadgen -- --agents hostA:7900,hostB:7900 …      (on the coordinating host)
 */
import { parseArgs } from 'node:util';
import { runAgent } from './agent.ts';
import { runCoordinator } from './coordinator.ts';
import { summaryRows, writeReport } from './report.ts';
import { loadScenario, parseAddresses, type Scenario } from './scenario.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scenario: { type: 'string' },
    protocol: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    tls: { type: 'boolean' },
    users: { type: 'string' },
    'group-size': { type: 'string' },
    'group-online': { type: 'string' },
    devices: { type: 'string' },
    workers: { type: 'string' },
    source: { type: 'string' },
    targets: { type: 'string' },
    ramp: { type: 'string' },
    duration: { type: 'string' },
    rate: { type: 'string' },
    size: { type: 'string' },
    churn: { type: 'string' },
    offline: { type: 'string' },
    disconnects: { type: 'string' },
    delay: { type: 'string' },
    drain: { type: 'string' },
    prefix: { type: 'string' },
    out: { type: 'string' },
    'server-pid': { type: 'string' },
    agents: { type: 'string' },
    listen: { type: 'string' },
    help: { type: 'boolean' },
    'room-size': { type: 'string' },
    'reliable-share': { type: 'string' },
    'room-slow-share': { type: 'string' },
    'room-stall': { type: 'string' },
    fault: { type: 'string' },
    'fault-redis': { type: 'string' },
  },
});

const HELP = `tern-loadgen [agent] [options]
  --scenario FILE     JSON scenario (flags override it)
  --protocol P        tern (default) or mqtt: QoS 1 publishes through a broker, same checks
  --host H --port P   server (default 127.0.0.1:7000, or :1883 for mqtt)   --tls (tern only)
  --users N           simulated users, chatting in pairs (default 200)
  --group-size N      users post to groups of N consecutive users instead (default 0: pairs)
  --group-online S    share of each group's members online while it runs (default 1)
  --devices N         devices per user, 1–4 (default 1)
  --workers N         worker processes (default 2; ≤ 19,000 connections each)
  --source SPEC       source addresses to bind, one per worker, e.g. 127.0.0.2-127.0.0.9
  --targets SPEC      server addresses to spread connections over, e.g. 127.0.0.2-127.0.0.9
                      (faster than --source: an unbound connect finds a port quickly)
  --ramp N            new connections per second (default 500)
  --duration S        seconds of messaging after the ramp (default 10; 0 = connect and idle)
  --rate N            messages per user per second (default 1)
  --size B            message size in bytes (default 100)
  --churn SHARE       share of devices that go offline once (0–1)   --offline S   for how long
  --disconnects N     abrupt disconnects per device per minute
  --delay MS          random extra delay before each send
  --drain S           seconds to wait for deliveries after the last send (default 10)
  --room-size N       live rooms of N users each instead of pairs (tern only; 0 = pairs)
  --reliable-share S  share of room messages sent reliable (default 0.1); the check covers them
  --room-slow-share S share of each room's devices that read slowly (default 0): they stop reading
                      for --room-stall MS (default 3000), read for a second, and so on; they rejoin
                      when the server takes them out, and are checked like the others
  --fault F           inject a fault while devices message: redis-flush@S (FLUSHALL S seconds in)
  --fault-redis H:P   the Redis the fault acts on (the server's; required with a redis fault)
  --server-pid PID    sample the server's RSS (with its workers) for memory per connection
  --agents LIST       run workers on agents host:port,… instead of locally
  --out DIR           where the JSON and HTML reports go (default var/loadgen)
agent mode: tern-loadgen agent --listen HOST:PORT`;

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

function overrides(): Partial<Scenario> {
  const o: { [K in keyof Scenario]?: Scenario[K] } = {};
  const set = <K extends keyof Scenario>(key: K, value: Scenario[K] | undefined) => {
    if (value !== undefined) o[key] = value;
  };
  set('protocol', values.protocol as Scenario['protocol'] | undefined);
  set('host', values.host);
  set('port', num(values.port));
  set('tls', values.tls);
  set('users', num(values.users));
  set('groupSize', num(values['group-size']));
  set('groupOnlineShare', num(values['group-online']));
  set('devicesPerUser', num(values.devices));
  set('workers', num(values.workers));
  set('sourceAddresses', values.source ? parseAddresses(values.source) : undefined);
  set('targetHosts', values.targets ? parseAddresses(values.targets) : undefined);
  set('rampPerSecond', num(values.ramp));
  set('durationSeconds', num(values.duration));
  set('messagesPerUserPerSecond', num(values.rate));
  set('messageBytes', num(values.size));
  set('churnShare', num(values.churn));
  set('offlineSeconds', num(values.offline));
  set('disconnectsPerDevicePerMinute', num(values.disconnects));
  set('sendDelayMs', num(values.delay));
  set('drainSeconds', num(values.drain));
  set('userPrefix', values.prefix);
  set('out', values.out);
  set('serverPid', num(values['server-pid']));
  set('roomSize', num(values['room-size']));
  set('roomReliableShare', num(values['reliable-share']));
  set('roomSlowShare', num(values['room-slow-share']));
  set('roomStallMs', num(values['room-stall']));
  set('fault', values.fault);
  set('faultRedis', values['fault-redis']);
  return o;
}

async function main(): Promise<number> {
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals[0] === 'agent') {
    const [host, port] = (values.listen ?? '0.0.0.0:7900').split(':');
    runAgent(host ?? '0.0.0.0', Number(port ?? 7900));
    return -1;
  }
  const scenario = loadScenario(values.scenario, overrides());
  const agents = values.agents ? values.agents.split(',') : [];
  console.log(`tern-loadgen: ${scenario.users} users × ${scenario.devicesPerUser} devices on ${scenario.workers} workers → ${scenario.protocol} ${scenario.host}:${scenario.port}`);
  const result = await runCoordinator(scenario, agents, (line) => console.log(line));
  const { json, html } = writeReport(result, scenario.out);
  console.log('');
  for (const [k, v] of summaryRows(result)) console.log(`${k.padEnd(30)} ${v}`);
  console.log(`\nreport: ${html}\nresult: ${json}`);
  return result.passed ? 0 : 1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    console.error(`tern-loadgen: ${(error as Error).message}`);
    process.exit(2);
  },
);
