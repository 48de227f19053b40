/**
 * A load worker process: brings up its share of devices at its share of the ramp, runs the
 * conversations with churn and network faults, drains, checks correctness and reports.
 */
import { GROUP_EVENT_KIND_BASE, type MessageRecord, type RoomMessageRecord } from '../protocol/bodies.ts';
import { DeliveryChecker } from './checker.ts';
import { Device, type DeviceHooks, type SimulatedDevice } from './device.ts';
import { isSlowRoomDevice } from './scenario.ts';
import { encode, newHistogram, recordMs, type Histogram } from './histogram.ts';
import { emptyCounters, type Counters, type FinalReport, type Phase, type ProgressReport, type WorkerAssignment, type WorkerMessage, type CoordinatorMessage } from './messages.ts';
import { MqttDevice } from './mqtt/device.ts';

const TICK_MS = 100;
/** Tries of a device's first connection before it counts as failed. */
const CONNECT_ATTEMPTS = 5;

export class LoadWorker {
  private readonly counters: Counters = emptyCounters();
  private readonly failures: Record<string, number> = {};
  private readonly checker = new DeliveryChecker();
  private readonly devicesByUser = new Map<string, SimulatedDevice[]>();
  private readonly sentAt = new Map<string, number>();
  private ack: Histogram = newHistogram();
  private deliver: Histogram = newHistogram();
  private connect: Histogram = newHistogram();
  private phase: Phase = 'ramp';
  private online = 0;
  private sendBudget = 0;
  private counter = 0;
  private pendingSends = 0;
  /** Devices that go offline during the run: room deliveries are checked for the devices that stay. */
  private churned = new Set<SimulatedDevice>();
  private readonly groupOf = new Map<string, { readonly groupId: string; readonly members: readonly string[] }>();
  /** Room devices that read slowly (roomSlowShare): they stall their reads and do not send. */
  private readonly slow = new Set<SimulatedDevice>();
  /** Group members whose app stays closed for the run (groupOnlineShare). */
  private readonly offlineUsers = new Set<string>();

  constructor(
    private readonly assignment: WorkerAssignment,
    private readonly report: (message: WorkerMessage) => void,
    /** Resolves when the coordinator says every worker has ramped. */
    private readonly go: Promise<void>,
  ) {}

  async run(): Promise<void> {
    const { scenario } = this.assignment;
    const progress = setInterval(() => this.reportProgress(), scenario.progressSeconds * 1000);
    try {
      const devices = this.createDevices();
      await this.ramp(devices);
      await this.joinRooms(devices);
      this.report({ kind: 'ramped', index: this.assignment.index });
      await this.go;
      await this.formGroups();
      this.phase = 'messaging';
      await this.converse(devices);
      this.phase = 'drain';
      await this.drain();
      this.phase = 'done';
      this.reportProgress();
      this.report(this.final(devices.length));
      for (const device of devices) device.close();
    } finally {
      clearInterval(progress);
    }
  }

  private createDevices(): SimulatedDevice[] {
    const { scenario, firstUser, endUser, sourceAddress } = this.assignment;
    const devices: SimulatedDevice[] = [];
    const hooks: DeviceHooks = {
      message: (device, m) => this.onMessage(device, m),
      roomMessage: (device, roomId, m) => this.onRoomMessage(device, roomId, m),
      roomDropped: (_device, count) => {
        this.counters.roomDropped += count;
      },
      roomLeft: (device, roomId) => this.rejoin(device, roomId),
      connected: (_device, first) => {
        this.online++;
        if (!first) this.counters.reconnects++;
      },
      disconnected: () => {
        this.online--;
        this.counters.disconnects++;
      },
    };
    const DeviceType = scenario.protocol === 'mqtt' ? MqttDevice : Device;
    for (let u = firstUser; u < endUser; u++) {
      const userId = `${scenario.userPrefix}u${u}`;
      const own: SimulatedDevice[] = [];
      for (let d = 0; d < scenario.devicesPerUser; d++) {
        const host = scenario.targetHosts.length > 0 ? (scenario.targetHosts[(u * scenario.devicesPerUser + d) % scenario.targetHosts.length] as string) : scenario.host;
        own.push(new DeviceType(userId, d, scenario, { host, ...(sourceAddress ? { localAddress: sourceAddress } : {}) }, hooks));
      }
      this.devicesByUser.set(userId, own);
      devices.push(...own);
    }
    return devices;
  }

  /** Starts connections at this worker's share of the ramp rate; device 0 of each user registers it first. */
  private async ramp(devices: SimulatedDevice[]): Promise<void> {
    const { scenario } = this.assignment;
    const perTick = Math.max(1, Math.round((scenario.rampPerSecond / scenario.workers) * (TICK_MS / 1000)));
    const attempts: Promise<void>[] = [];
    const firstDevices = devices.filter((d) => d.index === 0);
    const others = devices.filter((d) => d.index !== 0);
    for (const batchOf of [firstDevices, others]) {
      for (let i = 0; i < batchOf.length; i += perTick) {
        for (const device of batchOf.slice(i, i + perTick)) attempts.push(this.bringUp(device));
        await sleep(TICK_MS);
      }
      await Promise.all(attempts);
    }
  }

  /**
   * Connects one device as a phone app would: a failed first connection (refused, timed out,
   * overloaded) is retried after a jittered, doubling backoff; only the last failure counts.
   */
  private async bringUp(device: SimulatedDevice): Promise<void> {
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await device.connect(device.index === 0);
        recordMs(this.connect, performance.now() - started);
        this.counters.connected++;
        return;
      } catch (error) {
        if (attempt + 1 < CONNECT_ATTEMPTS) {
          this.counters.connectRetries++;
          await sleep(Math.random() * Math.min(16_000, 1_000 * 2 ** attempt));
          continue;
        }
        this.counters.connectFailures++;
        const reason = (error as { code?: unknown }).code ?? (error as Error).message;
        this.failures[String(reason)] = (this.failures[String(reason)] ?? 0) + 1;
        return;
      }
    }
  }


  private async converse(devices: SimulatedDevice[]): Promise<void> {
    const { scenario } = this.assignment;
    if (scenario.durationSeconds <= 0) return;
    const users = [...this.devicesByUser.keys()];
    const churning = pick(devices, Math.round(devices.length * scenario.churnShare));
    this.churned = new Set(churning);
    const churnAt = new Map(churning.map((d) => [d, Math.random() * scenario.durationSeconds * 1000 * 0.7]));
    const dropChance = (scenario.disconnectsPerDevicePerMinute / 60) * (TICK_MS / 1000);
    const started = performance.now();
    // Ends with the messaging phase; a stall under way when it ends runs out during the drain.
    void this.stallSlowDevices(started + scenario.durationSeconds * 1000);
    while (performance.now() - started < scenario.durationSeconds * 1000) {
      const elapsed = performance.now() - started;
      for (const [device, at] of churnAt) {
        if (elapsed < at) continue;
        churnAt.delete(device);
        void device.goOffline(scenario.offlineSeconds * 1000);
      }
      if (dropChance > 0) for (const device of devices) if (device.ready && Math.random() < dropChance) device.dropConnection();
      this.sendBudget += users.length * scenario.messagesPerUserPerSecond * (TICK_MS / 1000);
      while (this.sendBudget >= 1) {
        this.sendBudget--;
        this.sendOne(users[Math.floor(Math.random() * users.length)] as string);
      }
      await sleep(TICK_MS);
    }
  }

  /** With groupSize: the first user of each run of groupSize users creates the group of them all. */
  private async formGroups(): Promise<void> {
    const { scenario, firstUser, endUser } = this.assignment;
    if (scenario.groupSize <= 0) return;
    const creations: Promise<void>[] = [];
    for (let start = firstUser; start < endUser; start += scenario.groupSize) {
      const members = Array.from({ length: Math.min(scenario.groupSize, endUser - start) }, (_, i) => `${scenario.userPrefix}u${start + i}`);
      const creator = this.devicesByUser.get(members[0] as string)?.find((d) => d.ready);
      if (!creator?.createGroup || members.length < 2) continue;
      creations.push(
        creator.createGroup(`load ${start}`, members).then(
          (groupId) => {
            for (const userId of members) this.groupOf.set(userId, { groupId, members });
          },
          () => {
            this.failures['group create'] = (this.failures['group create'] ?? 0) + 1;
          },
        ),
      );
    }
    await Promise.all(creations);
    this.takeGroupMembersOffline();
  }

  /** With groupOnlineShare < 1: the last members of each group close their app for the run. */
  private takeGroupMembersOffline(): void {
    const { groupOnlineShare } = this.assignment.scenario;
    if (groupOnlineShare >= 1) return;
    const seen = new Set<string>();
    for (const { groupId, members } of this.groupOf.values()) {
      if (seen.has(groupId)) continue;
      seen.add(groupId);
      const online = Math.max(1, Math.round(members.length * groupOnlineShare));
      for (const userId of members.slice(online)) {
        this.offlineUsers.add(userId);
        for (const device of this.devicesByUser.get(userId) ?? []) device.close();
      }
    }
  }

  /** Room mode: users [firstUser + k·roomSize, …) of this worker share a room, so one worker checks it whole. */
  private roomOf(userId: string): string {
    const { scenario, firstUser, index } = this.assignment;
    const user = Number(userId.slice(userId.lastIndexOf('u') + 1));
    return `${scenario.userPrefix}-w${index}-r${Math.floor((user - firstUser) / scenario.roomSize)}`;
  }

  private async joinRooms(devices: SimulatedDevice[]): Promise<void> {
    const { scenario } = this.assignment;
    if (scenario.roomSize <= 0) return;
    await Promise.all(devices.filter((d) => d.ready).map((d) => d.joinRoom?.(this.roomOf(d.userId)).catch(() => undefined)));
    const positions = new Map<string, number>();
    for (const device of devices) {
      const roomId = this.roomOf(device.userId);
      const position = positions.get(roomId) ?? 0;
      positions.set(roomId, position + 1);
      if (device.stallReads && isSlowRoomDevice(position, scenario.roomSlowShare)) this.slow.add(device);
    }
    this.counters.roomSlowDevices = this.slow.size;
  }

  /**
   * Slow devices: stalled for roomStallMs, then a second of reading, while the messages flow. No
   * stall outlasts the messaging phase (`end`): the drain is the slow devices' time to catch up.
   */
  private async stallSlowDevices(end: number): Promise<void> {
    const { roomStallMs } = this.assignment.scenario;
    for (let left = end - performance.now(); left > 0 && this.slow.size > 0; left = end - performance.now()) {
      const ms = Math.min(roomStallMs, left);
      for (const device of this.slow) {
        device.stallReads?.(ms);
        this.counters.roomStalls++;
      }
      await sleep(ms + 1_000);
    }
  }

  /** Taken out of the room for being slow: a viewer that stays joins again (and pulls the reliable gap). */
  private rejoin(device: SimulatedDevice, roomId: string): void {
    this.counters.roomRemoved++;
    device.joinRoom?.(roomId).then(
      () => this.counters.roomRejoins++,
      () => undefined,
    );
  }

  /** One message to the sender's room; a reliable one must reach every device of the room that stays online. */
  private sendRoomOne(userId: string): void {
    const { scenario } = this.assignment;
    const sender = this.devicesByUser.get(userId)?.find((d) => d.ready && !this.slow.has(d));
    if (!sender?.sendRoom) return;
    const roomId = this.roomOf(userId);
    const tag = `${this.assignment.index}.${++this.counter}`;
    const reliable = Math.random() < scenario.roomReliableShare;
    this.counters.sent++;
    this.pendingSends++;
    const t0 = performance.now();
    this.sentAt.set(tag, t0);
    sender.sendRoom(roomId, roomContent(tag, this.counter, scenario.messageBytes), reliable).then(
      (ack) => {
        this.pendingSends--;
        this.counters.acked++;
        recordMs(this.ack, performance.now() - t0);
        if (ack.seq === 0) return;
        const viewers = [...this.devicesByUser].filter(([user]) => this.roomOf(user) === roomId).flatMap(([, own]) => own);
        this.checker.acknowledged(ack.messageId, viewers.filter((d) => !this.churned.has(d)).map((d) => d.key));
      },
      () => this.pendingSends--,
    );
  }

  private sendOne(userId: string): void {
    if (this.assignment.scenario.groupSize > 0) return this.postOne(userId);
    const { scenario, firstUser } = this.assignment;
    if (scenario.roomSize > 0) return this.sendRoomOne(userId);
    const devices = this.devicesByUser.get(userId) as SimulatedDevice[];
    const sender = devices.find((d) => d.ready) ?? devices.find((d) => d.canSend);
    if (!sender) return;
    const index = Number(userId.slice(userId.lastIndexOf('u') + 1));
    const partnerIndex = index % 2 === 0 ? index + 1 : index - 1;
    if (partnerIndex < firstUser) return;
    const partner = `${scenario.userPrefix}u${partnerIndex}`;
    const tag = `${this.assignment.index}.${++this.counter}`;
    const content = `${tag}|`.padEnd(scenario.messageBytes, 'x');
    this.counters.sent++;
    this.pendingSends++;
    const go = () => {
      const t0 = performance.now();
      this.sentAt.set(tag, t0);
      sender.send(partner, content).then(
        (ack) => {
          this.pendingSends--;
          this.counters.acked++;
          recordMs(this.ack, performance.now() - t0);
          const carbons = sender.carbons ? devices.filter((d) => d !== sender) : [];
          const expected = [...(this.devicesByUser.get(partner) ?? []), ...carbons].map((d) => d.key);
          this.checker.acknowledged(ack.messageId, expected);
        },
        () => this.pendingSends--,
      );
    };
    if (scenario.sendDelayMs > 0) setTimeout(go, Math.random() * scenario.sendDelayMs);
    else go();
  }

  /** A post to the sender's group: every device of every other member, and the sender's other devices, must get it. */
  private postOne(userId: string): void {
    const group = this.groupOf.get(userId);
    const devices = this.devicesByUser.get(userId) as SimulatedDevice[];
    const sender = devices.find((d) => d.ready) ?? devices.find((d) => d.canSend);
    if (!group || !sender?.sendToGroup || this.offlineUsers.has(userId)) return;
    const tag = `${this.assignment.index}.${++this.counter}`;
    const content = `${tag}|`.padEnd(this.assignment.scenario.messageBytes, 'x');
    this.counters.sent++;
    this.pendingSends++;
    const t0 = performance.now();
    this.sentAt.set(tag, t0);
    sender.sendToGroup(group.groupId, content).then(
      (ack) => {
        this.pendingSends--;
        this.counters.acked++;
        recordMs(this.ack, performance.now() - t0);
        const online = group.members.filter((member) => !this.offlineUsers.has(member));
        const expected = online.flatMap((member) => (this.devicesByUser.get(member) ?? []).filter((d) => d !== sender).map((d) => d.key));
        this.checker.acknowledged(ack.messageId, expected);
      },
      () => this.pendingSends--,
    );
  }

  private onMessage(device: SimulatedDevice, message: MessageRecord): void {
    // Group events (members added, …) are the server's, not part of the traffic checked here.
    if (message.kind >= GROUP_EVENT_KIND_BASE) return;
    this.counters.delivered++;
    this.checker.received(device.key, message);
    const tag = message.content.slice(0, message.content.indexOf('|'));
    const t0 = this.sentAt.get(tag);
    if (t0 !== undefined) recordMs(this.deliver, performance.now() - t0);
  }

  private onRoomMessage(device: SimulatedDevice, roomId: string, message: RoomMessageRecord): void {
    const tag = message.content.slice(0, message.content.indexOf('|'));
    const t0 = this.sentAt.get(tag);
    if (t0 !== undefined) recordMs(this.deliver, performance.now() - t0);
    if (message.seq === 0) {
      this.counters.roomOrdinary++;
      return;
    }
    this.counters.delivered++;
    // A device that went offline misses what was sent meanwhile by design; it is not checked.
    if (!this.churned.has(device)) this.checker.received(device.key, { messageId: message.messageId, conversationId: roomId, seq: message.seq });
  }

  /** Waits until every acknowledged message has reached its devices, or the drain time is up. */
  private async drain(): Promise<void> {
    const deadline = performance.now() + this.assignment.scenario.drainSeconds * 1000;
    while (performance.now() < deadline) {
      if (this.pendingSends === 0 && this.checker.missing() === 0) return;
      await sleep(250);
    }
  }

  private reportProgress(): void {
    const report: ProgressReport = {
      kind: 'progress',
      index: this.assignment.index,
      phase: this.phase,
      online: this.online,
      counters: { ...this.counters },
      ackHistogram: encode(this.ack),
      deliverHistogram: encode(this.deliver),
      connectHistogram: encode(this.connect),
      rssBytes: process.memoryUsage.rss(),
    };
    this.report(report);
    this.ack = newHistogram();
    this.deliver = newHistogram();
    this.connect = newHistogram();
  }

  private final(devices: number): FinalReport {
    return {
      kind: 'final',
      index: this.assignment.index,
      counters: { ...this.counters },
      failures: this.failures,
      check: this.checker.result(),
      unackedAtEnd: this.pendingSends,
      devices,
      rssBytes: process.memoryUsage.rss(),
    };
  }
}

/**
 * A room message's content: its tag, then letters that vary from message to message. Room batches
 * are LZ4-compressed when large, and a padding of one repeated letter would shrink to nothing,
 * so a slow viewer's backlog (what the drop policy acts on) would hardly grow.
 */
function roomContent(tag: string, n: number, bytes: number): string {
  let x = (n * 2654435761) >>> 0 || 1;
  let content = `${tag}|`;
  while (content.length < bytes) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    content += String.fromCharCode(97 + (x % 26));
  }
  return content;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pick<T>(items: T[], n: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

// Entry point when forked by the coordinator.
if (process.send && process.argv.includes('--loadgen-worker')) {
  let go: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (go = resolve));
  process.on('message', (message: CoordinatorMessage) => {
    if (message.kind === 'go') return go();
    const assignment = message;
    const worker = new LoadWorker(assignment, (report) => process.send?.(report), started);
    worker.run().then(
      () => process.disconnect?.(),
      (error: unknown) => {
        console.error(`worker ${assignment.index} failed:`, error);
        process.exit(1);
      },
    );
  });
}
