/**
 * Attacks that use valid requests: pages heavier than the frame size, and password guessing.
 * The clients follow the spec (the SDK's transport, which refuses frames above the advertised
 * limits), so what they report is what a real client would see.
 */
import { ServerError, Transport } from '../../client/transport.ts';
import { Bodies, Platform } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';

export interface AppAttack {
  readonly name: string;
  readonly what: string;
  run(port: number): Promise<string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function open(port: number, localAddress?: string): Promise<Transport> {
  const t = await Transport.open({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
  await t.request(Opcode.hello, Bodies.hello, { version: 1, client: 'attack' }, Bodies.serverHello);
  return t;
}

async function register(port: number, userId: string, password: string): Promise<Transport> {
  const t = await open(port);
  await t.request(Opcode.register, Bodies.register, { userId, password, deviceId: `${userId}-d`, platform: Platform.ios }, Bodies.session);
  return t;
}

/** `units` CJK characters (3 UTF-8 bytes each) from a seeded generator, which LZ4 cannot shrink much. */
function heavyText(seed: number, units: number): string {
  let x = seed >>> 0 || 1;
  let s = '';
  for (let i = 0; i < units; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += String.fromCharCode(0x4e00 + ((x >>> 0) % 0x5000));
  }
  return s;
}

const describeError = (error: unknown) => (error instanceof ServerError ? `error ${error.code}` : (error as Error).message);

export const pagesAttack: AppAttack = {
  name: 'pages',
  what: '70 valid messages of 65,536 CJK characters (~197 KB each) to one receiver, who then syncs and reads 100 history messages with a spec-following client (frames ≤ 1 MiB), reconnecting up to 5 times',
  async run(port) {
    (await register(port, 'rcv', 'pw')).close();
    // Seven senders of ten: each stays within a connection's 2 MiB/s of request bytes.
    const senders = await Promise.all(Array.from({ length: 7 }, (_, i) => register(port, `snd${i}`, 'pw')));
    let acked = 0;
    await Promise.all(
      senders.map(async (t, i) => {
        for (let m = 0; m < 10; m++) {
          await t.request(Opcode.send, Bodies.send, { clientMsgId: `c${m}`, to: 'rcv', kind: 1, content: heavyText(i * 100 + m + 1, 65_536) }, Bodies.sendAck, 30_000);
          acked++;
        }
      }),
    );
    for (const t of senders) t.close();
    let synced = 0;
    let pages = 0;
    let largest = 0;
    let disconnects = 0;
    let history = 'not read';
    for (let attempt = 0; attempt < 5 && (synced < acked || history === 'not read'); attempt++) {
      const t = await open(port);
      t.on('reply', (frame) => (largest = Math.max(largest, 16 + frame.body.length)));
      try {
        await t.request(Opcode.login, Bodies.login, { userId: 'rcv', deviceId: 'rcv-d', platform: Platform.ios, password: 'pw' }, Bodies.session);
        let since = 0;
        for (let page = 0; page < 100; page++) {
          const got = await t.request(Opcode.sync, Bodies.sync, { sinceVersion: since, limit: 200 }, Bodies.syncPage);
          pages++;
          synced = Math.max(synced, got.lastVersion);
          since = got.lastVersion;
          if (!got.hasMore) break;
        }
        const h = await t.request(Opcode.history, Bodies.history, { conversationId: 'p:rcv:snd0', limit: 100 }, Bodies.historyPage);
        history = `${h.messages.length} messages, hasMore ${h.hasMore}`;
      } catch (error) {
        disconnects++;
        history = history === 'not read' ? `failed (${describeError(error)})` : history;
      } finally {
        t.close();
      }
      if (disconnects > 0) await sleep(100);
    }
    return `${acked} of 70 acknowledged; receiver synced ${synced} of ${acked} entries in ${pages} page(s), history ${history}; largest reply ${largest} B; ${disconnects} disconnect(s)`;
  },
};

export const guessAttack: AppAttack = {
  name: 'guess',
  what: '24 connections from 127.0.0.1 guessing the password of one user for 5 s, while its owner logs in from 127.0.0.2 every 250 ms',
  async run(port) {
    (await register(port, 'owner', 'owner-pw')).close();
    const until = performance.now() + 5_000;
    const codes = new Map<string, number>();
    let guesses = 0;
    const guesser = async (g: number) => {
      let t = await open(port, '127.0.0.1');
      for (let i = 0; performance.now() < until; i++) {
        try {
          await t.request(Opcode.login, Bodies.login, { userId: 'owner', deviceId: `g${g}`, platform: Platform.ios, password: `guess-${g}-${i}` }, Bodies.session);
        } catch (error) {
          const key = describeError(error);
          codes.set(key, (codes.get(key) ?? 0) + 1);
          if (!t.isOpen) t = await open(port, '127.0.0.1');
        }
        guesses++;
      }
      t.close();
    };
    const logins: number[] = [];
    const failures: string[] = [];
    const owner = async () => {
      while (performance.now() < until) {
        const started = performance.now();
        const t = await open(port, '127.0.0.2');
        try {
          await t.request(Opcode.login, Bodies.login, { userId: 'owner', deviceId: 'owner-d', platform: Platform.desktop, password: 'owner-pw' }, Bodies.session);
          logins.push(performance.now() - started);
        } catch (error) {
          failures.push(describeError(error));
        } finally {
          t.close();
        }
        await sleep(250);
      }
    };
    await Promise.all([...Array.from({ length: 24 }, (_, g) => guesser(g)), owner()]);
    logins.sort((a, b) => a - b);
    const answers = [...codes].map(([k, n]) => `${n}× ${k}`).join(', ');
    return `${guesses} guesses (${answers}); owner logins: ${logins.length} ok, median ${(logins[logins.length >> 1] ?? NaN).toFixed(0)} ms, max ${(logins.at(-1) ?? NaN).toFixed(0)} ms${failures.length ? `, ${failures.length} refused (${[...new Set(failures)].join(', ')})` : ''}`;
  },
};
