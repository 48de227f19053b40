/** Sanctions set by an operator. */
import assert from 'node:assert/strict';
import { NO_SANCTIONS } from '../../../storage/ports.ts';
import type { Harness } from '../conformance.ts';

export function describeModeration(h: Harness): void {
  describe('moderation', () => {
    it('reads no sanctions for a user never sanctioned, and sanctions back until they are lifted', async () => {
      const { moderation } = await h.open();
      // Times well in the future, so that a store that expires sanctions with the clock keeps them.
      const until = Date.now() + 3_600_000;
      assert.deepEqual(await moderation.get('ann'), NO_SANCTIONS);
      await moderation.set('ann', { mutedUntil: until, textOnlyUntil: 0 });
      assert.deepEqual(await moderation.get('ann'), { mutedUntil: until, textOnlyUntil: 0 });
      assert.deepEqual(await moderation.get('ben'), NO_SANCTIONS, 'one user\'s sanctions are not another\'s');
      await moderation.set('ann', { mutedUntil: 0, textOnlyUntil: until + 1_000 });
      assert.deepEqual(await moderation.get('ann'), { mutedUntil: 0, textOnlyUntil: until + 1_000 }, 'a new set replaces the old one');
      await moderation.set('ann', NO_SANCTIONS);
      assert.deepEqual(await moderation.get('ann'), NO_SANCTIONS);
    });
  });
}
