/** The pre-send check charges users' quotas, not the operator's system messages. */
import assert from 'node:assert/strict';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import { SYSTEM_USER } from '../../server/logic/admin.ts';
import { PreSend } from '../../server/logic/pre-send.ts';
import { SendQuota } from '../../server/logic/send-quota.ts';
import type { ModerationStore } from '../../storage/ports.ts';

const clock = { now: () => 1_000_000 };
const free = { mutedUntil: 0, textOnlyUntil: 0 };
const noSanctions: ModerationStore = { get: async () => free, set: async () => undefined };

describe('pre-send check', () => {
  it('refuses a user past the send quota with 3007 but never charges the system user', () => {
    const check = new PreSend(noSanctions, clock, new SendQuota(clock, { windowMs: 10_000, messages: 3, bytes: 1_000_000, maxUsers: 100 }));
    for (let i = 0; i < 3; i++) check.admit('alice', free, { kind: 1, content: 'hi' });
    assert.throws(
      () => check.admit('alice', free, { kind: 1, content: 'hi' }),
      (error: unknown) => error instanceof ProtocolError && error.code === ErrorCode.quotaExceeded,
    );
    for (let i = 0; i < 50; i++) assert.equal(check.admit(SYSTEM_USER, free, { kind: 1, content: `notice ${i}` }), `notice ${i}`);
  });
});
