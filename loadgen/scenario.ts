/**
 * What a load run does: who connects, how fast, who talks to whom, and what goes wrong on the
 * way. Flags override a JSON scenario file, which overrides the defaults.
 */
import { readFileSync } from 'node:fs';
import { MAX_ROOM_CONTENT_LENGTH } from '../protocol/bodies.ts';
import { parseFault } from './faults.ts';

export type LoadProtocol = 'tern' | 'mqtt';

export const PROTOCOLS: readonly LoadProtocol[] = ['tern', 'mqtt'];

/** Where each protocol listens unless a port is given: tern's default and MQTT's registered port. */
const DEFAULT_PORT: Record<LoadProtocol, number> = { tern: 7000, mqtt: 1883 };

export interface Scenario {
  /** tern: the SDK against a tern server; mqtt: the same conversations as QoS 1 PUBLISHes through a broker. */
  readonly protocol: LoadProtocol;
  readonly host: string;
  /**
   * Server addresses to spread connections over (the server listening on all of them, e.g.
   * 0.0.0.0): each destination address has its own ~28,000 ephemeral ports, and the kernel finds
   * a port for an unbound connect much faster than for a bound one. Empty: `host` only.
   */
  readonly targetHosts: readonly string[];
  readonly port: number;
  readonly tls: boolean;
  /** Simulated users; users 2k and 2k+1 form a chatting pair (or, with groupSize, groups of consecutive users). */
  readonly users: number;
  /**
   * 0: users chat in pairs. N ≥ 2: each worker's users form groups of N consecutive users (the
   * last one smaller), created when the ramp is done; each send is a post to the sender's group.
   */
  readonly groupSize: number;
  /** Share of each group's members that stay online once the groups exist; the others close their app for the run (read diffusion: nothing is sent to them). */
  readonly groupOnlineShare: number;
  readonly devicesPerUser: number;
  /** Worker processes; each holds at most ~19,000 sockets. */
  readonly workers: number;
  /** Local source addresses, handed round-robin to workers (e.g. 127.0.0.2 … 127.0.0.9); empty: the kernel picks. */
  readonly sourceAddresses: readonly string[];
  /** New connections per second, over all workers. */
  readonly rampPerSecond: number;
  /** Seconds of messaging after the ramp; 0 for a connect-and-idle run. */
  readonly durationSeconds: number;
  /** Messages per second each user sends to its partner. */
  readonly messagesPerUserPerSecond: number;
  readonly messageBytes: number;
  /** Share of devices that go offline once during the run and come back after offlineSeconds. */
  readonly churnShare: number;
  readonly offlineSeconds: number;
  /** Abrupt disconnects (as on a lost network) per device per minute; the SDK reconnects with backoff. */
  readonly disconnectsPerDevicePerMinute: number;
  /** Extra random delay before each send, as on a slow radio link. */
  readonly sendDelayMs: number;
  /** Seconds to wait after the last send for deliveries before checking. */
  readonly drainSeconds: number;
  readonly userPrefix: string;
  readonly password: string;
  /** Seconds between progress lines. */
  readonly progressSeconds: number;
  readonly out: string;
  /** Server process to sample RSS from (its children are included). */
  readonly serverPid: number | undefined;
  /**
   * Live rooms instead of pairs (tern only): users of a worker form rooms of this many, each
   * user joins its room and sends to it; 0 for pairs. The checker verifies the reliable room
   * messages (every one at every device of the room that stayed, once, in seq order) and counts
   * ordinary ones, delivered and reported dropped.
   */
  readonly roomSize: number;
  /** Share of room messages sent as reliable (gifts). */
  readonly roomReliableShare: number;
  /**
   * Share of each room's devices that read slowly: they stop reading for `roomStallMs`, read
   * for a second, and so on while the messages flow (not while draining). They do not send. The
   * server drops their ordinary messages and may take them out of the room; they rejoin at once
   * and are checked like every device that stays: every reliable message, once, in seq order.
   */
  readonly roomSlowShare: number;
  readonly roomStallMs: number;
  /** A fault to inject while devices message (see faults.ts), e.g. "redis-flush@5"; empty for none. */
  readonly fault: string;
  /** HOST:PORT of the Redis a redis fault acts on: the one the server under test uses. */
  readonly faultRedis: string;
}

export const defaults: Scenario = {
  protocol: 'tern',
  host: '127.0.0.1',
  port: 7000,
  tls: false,
  users: 200,
  groupSize: 0,
  groupOnlineShare: 1,
  devicesPerUser: 1,
  workers: 2,
  targetHosts: [],
  sourceAddresses: [],
  rampPerSecond: 500,
  durationSeconds: 10,
  messagesPerUserPerSecond: 1,
  messageBytes: 100,
  churnShare: 0,
  offlineSeconds: 3,
  disconnectsPerDevicePerMinute: 0,
  sendDelayMs: 0,
  drainSeconds: 10,
  userPrefix: `lg${Date.now().toString(36)}`,
  password: 'load-test',
  progressSeconds: 1,
  out: 'var/loadgen',
  serverPid: undefined,
  roomSize: 0,
  roomReliableShare: 0.1,
  roomSlowShare: 0,
  roomStallMs: 3_000,
  fault: '',
  faultRedis: '',
};

/**
 * Whether the device at `position` in its room's order is a slow one: `share` of a room's devices,
 * rounded down, spread evenly over the room.
 */
export function isSlowRoomDevice(position: number, share: number): boolean {
  // The epsilon keeps products like 0.29 × 100 = 28.999… from losing a device to rounding.
  const upTo = (n: number) => Math.floor(n * share + 1e-9);
  return upTo(position + 1) > upTo(position);
}

/** "127.0.0.2-127.0.0.9" or "10.0.0.5,10.0.0.6" → a list of addresses. */
export function parseAddresses(spec: string): string[] {
  const out: string[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+\.\d+\.\d+\.)(\d+)-(?:\d+\.\d+\.\d+\.)?(\d+)$/.exec(part);
    if (!range) {
      out.push(part);
      continue;
    }
    const [, prefix, from, to] = range as unknown as [string, string, string, string];
    for (let i = Number(from); i <= Number(to); i++) out.push(`${prefix}${i}`);
  }
  if (out.length === 0) throw new Error(`no addresses in "${spec}"`);
  return out;
}

type Overrides = { -readonly [K in keyof Scenario]?: Scenario[K] };

export function loadScenario(file: string | undefined, overrides: Overrides): Scenario {
  const fromFile = file ? (JSON.parse(readFileSync(file, 'utf8')) as Overrides) : {};
  const merged: Scenario = { ...defaults, ...fromFile, ...overrides };
  const port = overrides.port ?? fromFile.port ?? DEFAULT_PORT[merged.protocol] ?? defaults.port;
  const scenario: Scenario = { ...merged, port };
  validate(scenario);
  return scenario;
}

function validate(s: Scenario): void {
  const problems: string[] = [];
  if (!PROTOCOLS.includes(s.protocol)) problems.push(`protocol must be one of ${PROTOCOLS.join(', ')}`);
  if (s.protocol === 'mqtt' && s.tls) problems.push('tls is not supported with protocol mqtt');
  if (s.users < 2 || (s.groupSize === 0 && s.users % 2 !== 0)) problems.push('users must be an even number ≥ 2 (users chat in pairs)');
  if (s.groupSize !== 0 && !(s.groupSize >= 2 && s.groupSize <= 100_000)) problems.push('groupSize must be 0 (pairs) or 2–100,000');
  if (s.groupSize > 0 && s.protocol === 'mqtt') problems.push('groupSize needs protocol tern');
  if (!(s.groupOnlineShare > 0 && s.groupOnlineShare <= 1)) problems.push('groupOnlineShare must be within (0, 1]');
  if (s.devicesPerUser < 1 || s.devicesPerUser > 4) problems.push('devicesPerUser must be 1–4 (one per platform)');
  if (s.workers < 1) problems.push('workers must be ≥ 1');
  if (s.rampPerSecond <= 0) problems.push('rampPerSecond must be > 0');
  if (s.churnShare < 0 || s.churnShare > 1) problems.push('churnShare must be within 0–1');
  if (s.roomSize < 0 || !Number.isInteger(s.roomSize)) problems.push('roomSize must be a whole number ≥ 0 (0: pairs)');
  if (s.roomSize > 0 && s.protocol !== 'tern') problems.push('rooms need protocol tern');
  if (s.roomReliableShare < 0 || s.roomReliableShare > 1) problems.push('roomReliableShare must be within 0–1');
  if (!(s.roomSlowShare >= 0 && s.roomSlowShare < 1)) problems.push('roomSlowShare must be within [0, 1): some devices of a room must read at full speed');
  if (s.roomSlowShare > 0 && s.roomSize <= 0) problems.push('roomSlowShare needs roomSize > 0');
  if (s.roomSize > 0 && s.messageBytes > MAX_ROOM_CONTENT_LENGTH) problems.push(`room messages are at most ${MAX_ROOM_CONTENT_LENGTH} bytes (messageBytes)`);
  if (!(s.roomStallMs > 0)) problems.push('roomStallMs must be > 0');
  if ((s.users * s.devicesPerUser) / s.workers > 19_000) problems.push('more than 19,000 connections per worker: add workers (a process may hold 20,000 descriptors)');
  try {
    parseFault(s.fault, s.faultRedis);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (s.fault !== '' && s.protocol !== 'tern') problems.push('faults need protocol tern');
  if (problems.length) throw new Error(`invalid scenario:\n  ${problems.join('\n  ')}`);
}
