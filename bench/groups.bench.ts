/**
 * Groups: a post to a 10,000-member group with 1,000 members online, read-diffused (stored once,
 * encoded once) beside the same group write-diffused into every member's inbox; and a device
 * catching up on 50 groups after a day offline.
 */
import type { BenchContext } from './support/context.ts';
import { measureCatchUp } from './groups/catch-up.ts';
import { measureFanout, type FanoutPlan, type FanoutResult } from './groups/fanout.ts';

const PLAN: FanoutPlan = { members: 10_000, online: 1_000, messages: 100, inFlight: 16 };

const cpuPerThousand = (r: FanoutResult) => (r.serverCpuSeconds / r.deliveries) * 1000;

export async function run(context: BenchContext): Promise<void> {
  const read = await measureFanout('read', PLAN);
  const write = await measureFanout('write', PLAN);
  context.facts({
    title: `one group of ${PLAN.members} members, ${PLAN.online} online (one device each), ${PLAN.messages} posts of 100 bytes, ${PLAN.inFlight} in flight; each mode on a fresh server process`,
    rows: [
      ['diffusion', 'deliveries/s', 'server CPU-s per 1,000 deliveries', 'store writes per post', 'push encodes per post'],
      ...[read, write].map((r) => [r.mode, (r.deliveries / r.seconds).toFixed(0), cpuPerThousand(r).toFixed(4), r.storeWritesPerMessage.toFixed(1), r.encodesPerMessage.toFixed(1)]),
    ],
  });
  context.goals('read diffusion against write diffusion at 10,000 members', [
    { label: 'fewer store writes per post', actual: write.storeWritesPerMessage / read.storeWritesPerMessage, target: 20, direction: 'atLeast' },
    { label: 'fewer server CPU-seconds per delivery', actual: cpuPerThousand(write) / cpuPerThousand(read), target: 5, direction: 'atLeast' },
  ]);
  const catchUp = await measureCatchUp(50, 200);
  context.facts({
    title: 'a device back after a day offline: 50 groups × 200 posts, one groupSync pass with 50 cursors',
    rows: [
      ['entries', 'pages', 'entries/s', 'largest page frame (bytes)'],
      [String(catchUp.entries), String(catchUp.pages), (catchUp.entries / catchUp.seconds).toFixed(0), String(catchUp.largestFrameBytes)],
    ],
  });
}
