/** One suite for every dispatch board: what the dispatcher relies on of its port. */
import assert from 'node:assert/strict';
import type { LoadBoard, LoadReport } from '../../server/dispatch/board.ts';

function report(nodeId: string, connections: number, at: number): LoadReport {
  return { nodeId, host: '127.0.0.1', port: 7000, tlsPort: 7443, connections, capacity: 100, cpu: 0.25, acceptRate: 12, at };
}

export function describeBoardConformance(name: string, open: () => Promise<{ board: LoadBoard; close(): Promise<void> }>): void {
  describe(`dispatch board conformance: ${name}`, () => {
    let opened: { board: LoadBoard; close(): Promise<void> };
    beforeEach(async () => {
      opened = await open();
    });
    afterEach(() => opened.close());

    it('is empty before anything is published', async () => {
      assert.deepEqual(await opened.board.reports(), []);
    });

    it('returns a published report as it was given, every field kept', async () => {
      await opened.board.publish(report('n1', 3, 1_000));
      assert.deepEqual(await opened.board.reports(), [report('n1', 3, 1_000)]);
    });

    it('keeps only the latest report of a node', async () => {
      await opened.board.publish(report('n1', 3, 1_000));
      await opened.board.publish(report('n1', 9, 2_000));
      assert.deepEqual(await opened.board.reports(), [report('n1', 9, 2_000)]);
    });

    it('forgets a node that withdraws', async () => {
      await opened.board.publish(report('n1', 3, 1_000));
      await opened.board.withdraw('n1');
      assert.deepEqual(await opened.board.reports(), []);
    });
  });
}
