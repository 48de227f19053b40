/**
 * N sender → receiver pairs over real sockets, each sender keeping a few sends in flight. Records
 * send→ACK and send→deliver latencies and the rate of delivered messages.
 */
import { Client } from '../../client/client.ts';
import { Platform } from '../../protocol/bodies.ts';

export interface PairsResult {
  readonly messages: number;
  readonly seconds: number;
  readonly ackMs: number[];
  readonly deliverMs: number[];
}

export interface PairsOptions {
  readonly port: number;
  readonly pairs: number;
  readonly messagesPerSender: number;
  readonly inFlight: number;
  readonly tag: string;
}

function client(port: number, userId: string): Client {
  return new Client({ endpoint: { host: '127.0.0.1', port }, userId, deviceId: `${userId}-d`, platform: Platform.android, password: 'pw', register: true, reconnect: false });
}

export async function runPairs(options: PairsOptions): Promise<PairsResult> {
  const senders = Array.from({ length: options.pairs }, (_, i) => client(options.port, `${options.tag}s${i}`));
  const receivers = Array.from({ length: options.pairs }, (_, i) => client(options.port, `${options.tag}r${i}`));
  await Promise.all([...senders, ...receivers].map((c) => c.connect()));
  const sentAt = new Map<string, number>();
  const ackMs: number[] = [];
  const deliverMs: number[] = [];
  const total = options.pairs * options.messagesPerSender;
  let delivered = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  for (const receiver of receivers) {
    receiver.on('message', (m) => {
      const started = sentAt.get(m.content);
      if (started !== undefined) deliverMs.push(performance.now() - started);
      if (++delivered === total) resolveDone();
    });
  }
  const started = performance.now();
  await Promise.all(
    senders.map(async (sender, i) => {
      let next = 0;
      const lane = async () => {
        while (next < options.messagesPerSender) {
          const content = `${options.tag}:${i}:${next++}`;
          const t0 = performance.now();
          sentAt.set(content, t0);
          await sender.send(`${options.tag}r${i}`, content);
          ackMs.push(performance.now() - t0);
        }
      };
      await Promise.all(Array.from({ length: options.inFlight }, lane));
    }),
  );
  const timeout = setTimeout(resolveDone, 30_000);
  await done;
  clearTimeout(timeout);
  const seconds = (performance.now() - started) / 1000;
  for (const c of [...senders, ...receivers]) c.close();
  return { messages: delivered, seconds, ackMs, deliverMs };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
