/** Mutes set by an operator. */
import assert from 'node:assert/strict';
import type { Harness } from '../conformance.ts';

export function describeModeration(h: Harness): void {
  describe('moderation', () => {
    it('reads 0 for a user never muted, and a mute back until it is lifted with 0', async () => {
      const { moderation } = await h.open();
      // A time well in the future, so that a store that expires mutes with the clock keeps it.
      const until = Date.now() + 3_600_000;
      assert.equal(await moderation.mutedUntil('ann'), 0);
      await moderation.setMutedUntil('ann', until);
      assert.equal(await moderation.mutedUntil('ann'), until);
      assert.equal(await moderation.mutedUntil('ben'), 0, 'one user\'s mute is not another\'s');
      await moderation.setMutedUntil('ann', until + 1_000);
      assert.equal(await moderation.mutedUntil('ann'), until + 1_000, 'a new mute replaces the old one');
      await moderation.setMutedUntil('ann', 0);
      assert.equal(await moderation.mutedUntil('ann'), 0);
    });
  });
}
