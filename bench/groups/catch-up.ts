/**
 * A device offline while its groups moved on: `groups` groups × `messages` posts each, then one
 * sync pass with a cursor per group, page after page until `hasMore` is false.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replyOf } from '../../spec/support/group-calls.ts';
import { freePort, spawnListening, stopProcess } from '../../spec/support/process.ts';
import { RawDevice } from '../../spec/support/raw-device.ts';

export interface CatchUpResult {
  readonly entries: number;
  readonly pages: number;
  readonly seconds: number;
  readonly largestFrameBytes: number;
}

const HEADER_BYTES = 16;

export async function measureCatchUp(groups: number, messages: number): Promise<CatchUpResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tern-groups-'));
  const port = await freePort();
  const server = await spawnListening('bench/groups/server.ts', ['--port', String(port), '--data-dir', dataDir], port, 60_000);
  const devices: RawDevice[] = [];
  try {
    const owner = await RawDevice.register(port, 'owner');
    const away = await RawDevice.register(port, 'away');
    away.close();
    devices.push(owner);
    const ids: string[] = [];
    for (let g = 0; g < groups; g++) {
      const { groupId } = replyOf(await owner.call('groupCreate', { name: `g${g}`, members: ['away'] }), 'groupInfo');
      ids.push(groupId);
      for (let i = 0; i < messages; i += 50) {
        const acks = await Promise.all(Array.from({ length: Math.min(50, messages - i) }, (_, j) => owner.call('groupSend', { groupId, clientMsgId: `${g}-${i + j}`, kind: 1, content: `message ${i + j} of group ${g}, long enough to look like a chat line` })));
        for (const ack of acks) replyOf(ack, 'sendAck');
      }
    }
    const back = await RawDevice.open(port, 'away', { register: false });
    devices.push(back);
    const cursors = new Map(ids.map((groupId) => [groupId, 0]));
    let entries = 0;
    let pages = 0;
    let largestFrameBytes = 0;
    const started = performance.now();
    for (let more = true; more && pages < 10_000; ) {
      const frame = await back.call('groupSync', { cursors: [...cursors].map(([groupId, afterSeq]) => ({ groupId, afterSeq })), limit: 1000 });
      const page = replyOf(frame, 'groupSyncPage');
      largestFrameBytes = Math.max(largestFrameBytes, frame.body.length + HEADER_BYTES);
      for (const m of page.messages) cursors.set(m.to, m.seq);
      entries += page.messages.length;
      pages++;
      more = page.hasMore;
    }
    return { entries, pages, seconds: (performance.now() - started) / 1000, largestFrameBytes };
  } finally {
    for (const d of devices) d.close();
    await stopProcess(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
