/**
 * One suite for every Routing (server/routing/port.ts): the in-process one (spec/routing/
 * local.spec.ts) and the Redis one (spec-integration/redis-routing.spec.ts). Deliveries of the
 * Redis routing are asynchronous, so the suite waits for them, with a deadline, and checks that
 * nothing else arrived after a later delivery on the same path.
 */
import assert from 'node:assert/strict';
import { EntryType, type BodyOf } from '../../protocol/bodies.ts';
import { PushPayload } from '../../server/push-payload.ts';
import type { LocalDelivery, Routing } from '../../server/routing/port.ts';
import type { ConnectionId, SessionInfo } from '../../server/seam.ts';

const DEADLINE_MS = 5_000;

export type Delivered =
  | { readonly kind: 'push'; readonly connectionIds: readonly ConnectionId[]; readonly seq: number }
  | { readonly kind: 'kick' | 'revokeAndKick'; readonly connectionId: ConnectionId; readonly reason: number };

/** A node's local delivery that records what reaches it, and lets a test wait for it. */
export class Recorder implements LocalDelivery {
  readonly delivered: Delivered[] = [];
  private readonly waiting = new Set<() => void>();

  push(connectionIds: readonly ConnectionId[], payload: PushPayload): void {
    this.record({ kind: 'push', connectionIds: [...connectionIds].sort(), seq: payload.entry?.seq ?? -1 });
  }

  kick(connectionId: ConnectionId, body: BodyOf<'kick'>): void {
    this.record({ kind: 'kick', connectionId, reason: body.reason });
  }

  async revokeAndKick(connectionId: ConnectionId, body: BodyOf<'kick'>): Promise<void> {
    this.record({ kind: 'revokeAndKick', connectionId, reason: body.reason });
  }

  /** Resolves once `count` deliveries have arrived in all; fails after the deadline. */
  until(count: number): Promise<Delivered[]> {
    return this.when(() => this.delivered.length >= count, `${count} deliveries`);
  }

  /** Resolves once pushes have reached `count` connections in all. */
  untilPushedTo(count: number): Promise<Delivered[]> {
    return this.when(() => this.pushedTo().length >= count, `pushes to ${count} connections`);
  }

  /** Every connection a push reached, sorted. */
  pushedTo(): ConnectionId[] {
    return this.delivered.flatMap((d) => (d.kind === 'push' ? d.connectionIds : [])).sort();
  }

  private async when(done: () => boolean, what: string): Promise<Delivered[]> {
    const started = Date.now();
    while (!done()) {
      if (Date.now() - started > DEADLINE_MS) assert.fail(`no ${what} within ${DEADLINE_MS} ms: ${JSON.stringify(this.delivered)}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiting.delete(done);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, 50);
        this.waiting.add(done);
      });
    }
    return this.delivered;
  }

  private record(d: Delivered): void {
    this.delivered.push(d);
    for (const wake of [...this.waiting]) wake();
  }
}

export function entry(seq: number): PushPayload {
  return PushPayload.of({ version: seq, type: EntryType.message, conversationId: 'p:ann:ben', seq });
}

export function session(userId: string, deviceId: string, platform: number, connectionId: ConnectionId): SessionInfo {
  return { userId, deviceId, platform, connectionId };
}

export interface RoutingHarness {
  /** A routing for one node, attached to `local`; closed by the suite. Nodes of one test share their registry. */
  open(nodeId: string, local: LocalDelivery): Promise<Routing>;
  /** A user id no other test uses (the Redis registry outlives a test). */
  user(label: string): string;
}

export function describeRoutingConformance(name: string, h: RoutingHarness): void {
  describe(`routing conformance: ${name}`, () => {
    const opened: Routing[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((r) => r.close()));
    });
    const node = async (nodeId = 'n1'): Promise<{ routing: Routing; local: Recorder }> => {
      const local = new Recorder();
      const routing = await h.open(nodeId, local);
      opened.push(routing);
      return { routing, local };
    };

    it('replaces the session of the same device id and of the same platform, and returns them', async () => {
      const { routing } = await node();
      const ann = h.user('ann');
      assert.deepEqual(await routing.add(session(ann, 'phone', 1, 'c1')), []);
      assert.deepEqual(await routing.add(session(ann, 'laptop', 3, 'c2')), []);
      const same = await routing.add(session(ann, 'phone', 1, 'c3'));
      assert.deepEqual(same.map((r) => r.session.connectionId), ['c1']);
      const platform = await routing.add(session(ann, 'tablet', 3, 'c4'));
      assert.deepEqual(platform.map((r) => [r.session.deviceId, r.session.connectionId, r.session.platform]), [['laptop', 'c2', 3]]);
      const devices = await routing.devices(ann);
      assert.deepEqual(devices.map((r) => r.session.connectionId).sort(), ['c3', 'c4']);
    });

    it('pushes to every online device of a user but the one left out, and calls offline when none is online', async () => {
      const { routing, local } = await node();
      const [ann, ben] = [h.user('ann'), h.user('ben')];
      await routing.add(session(ann, 'phone', 1, 'c1'));
      await routing.add(session(ann, 'laptop', 3, 'c2'));
      routing.push(ann, entry(1));
      routing.push(ann, entry(2), 'phone');
      let offline = 0;
      routing.push(ben, entry(3), undefined, () => offline++);
      routing.push(ann, entry(4), undefined, () => offline++);
      const got = await local.until(3);
      assert.deepEqual(
        [...got].sort((a, b) => (a.kind === 'push' && b.kind === 'push' ? a.seq - b.seq : 0)),
        [
          { kind: 'push', connectionIds: ['c1', 'c2'], seq: 1 },
          { kind: 'push', connectionIds: ['c2'], seq: 2 },
          { kind: 'push', connectionIds: ['c1', 'c2'], seq: 4 },
        ],
      );
      assert.equal(offline, 1, 'ben has no online device: offline once, and only for him');
    });

    it('forgets a session on remove only while it is still its device connection', async () => {
      const { routing, local } = await node();
      const ann = h.user('ann');
      const first = session(ann, 'phone', 1, 'c1');
      await routing.add(first);
      await routing.add(session(ann, 'phone', 1, 'c2'));
      routing.remove(first);
      // The replaced session's remove leaves its successor; a push shows what is routed.
      routing.push(ann, entry(1));
      assert.deepEqual(await local.until(1), [{ kind: 'push', connectionIds: ['c2'], seq: 1 }]);
      routing.remove(session(ann, 'phone', 1, 'c2'));
      let offline = false;
      await new Promise<void>((resolve) => {
        routing.push(ann, entry(2), undefined, () => {
          offline = true;
          resolve();
        });
        setTimeout(resolve, DEADLINE_MS);
      });
      assert.equal(offline, true);
      assert.deepEqual(await routing.devices(ann), []);
    });

    it('pushes one entry to many users, without the sending device', async () => {
      const { routing, local } = await node();
      const [ann, ben, cat] = [h.user('ann'), h.user('ben'), h.user('cat')];
      await routing.add(session(ann, 'phone', 1, 'a1'));
      await routing.add(session(ann, 'laptop', 3, 'a2'));
      await routing.add(session(ben, 'phone', 1, 'b1'));
      routing.pushToUsers([ann, ben, cat], entry(7), { userId: ann, deviceId: 'phone' });
      await local.untilPushedTo(2);
      // A later push to ann's laptop only: whatever the first one still had to deliver came before it.
      routing.push(ann, entry(8), 'phone');
      await local.untilPushedTo(3);
      assert.deepEqual(local.pushedTo(), ['a2', 'a2', 'b1'], 'each connection once, the sending device none');
    });

    it('kicks a replaced session on the node that holds it, and counts what it holds', async () => {
      const { routing, local } = await node();
      const [ann, ben] = [h.user('ann'), h.user('ben')];
      await routing.add(session(ann, 'phone', 1, 'c1'));
      await routing.add(session(ben, 'phone', 1, 'c2'));
      await routing.add(session(ben, 'laptop', 3, 'c3'));
      const [replaced] = await routing.add(session(ann, 'phone', 1, 'c4'));
      assert.ok(replaced);
      routing.kick(replaced, { reason: 1, message: 'replaced' });
      assert.deepEqual(await local.until(1), [{ kind: 'kick', connectionId: 'c1', reason: 1 }]);
      assert.deepEqual(routing.online(), { users: 2, sessions: 3 });
    });

    it('revokes and kicks a device on the node that holds it', async () => {
      const { routing, local } = await node();
      const ann = h.user('ann');
      await routing.add(session(ann, 'phone', 1, 'c1'));
      await routing.add(session(ann, 'laptop', 3, 'c2'));
      const [laptop] = (await routing.devices(ann)).filter((r) => r.session.deviceId === 'laptop');
      assert.ok(laptop);
      routing.revokeAndKick(laptop, { reason: 3, message: 'revoked' });
      assert.deepEqual(await local.until(1), [{ kind: 'revokeAndKick', connectionId: 'c2', reason: 3 }]);
    });
  });
}
