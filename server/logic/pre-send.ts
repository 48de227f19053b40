/**
 * The check every user-authored message passes before it is stored, 1:1 and in groups alike:
 * the operator's sanctions (muted: nothing may be sent; text only: no other kind), the per-user
 * send quota, then the content filter (masked content to store, or 3003). One place, so that a
 * muted user cannot post to a group instead, and a filtered word cannot be posted to one.
 */
import { TEXT_KIND } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { ModerationStore, Sanctions } from '../../storage/ports.ts';
import { SYSTEM_USER } from './admin.ts';
import type { Clock } from './clock.ts';
import type { SendQuota } from './send-quota.ts';

/** The content to store for the content a sender gave (masked), or a 3003 ProtocolError. */
export type ContentFilterFn = (content: string) => string;

export interface Outgoing {
  readonly kind: number;
  readonly content: string;
}

export class PreSend {
  constructor(
    private readonly moderation: ModerationStore,
    private readonly clock: Clock,
    private readonly quota: SendQuota,
    private readonly filter: ContentFilterFn = (content) => content,
  ) {}

  /** The sender's sanctions, read early so the read overlaps the caller's other lookups. */
  sanctions(userId: string): Promise<Sanctions> {
    return this.moderation.get(userId);
  }

  /**
   * Refuses a sanctioned send with 3002, charges the quota (a refused resend still costs a
   * request), and returns the content to store: masked, or a 3003 under the reject policy. The
   * operator's system messages are not charged: the admin API's bearer token is their bound.
   */
  admit(userId: string, sanctions: Sanctions, message: Outgoing): string {
    const now = this.clock.now();
    if (sanctions.mutedUntil > now) throw new ProtocolError(ErrorCode.forbidden, `muted by an operator until ${new Date(sanctions.mutedUntil).toISOString()}`);
    if (message.kind !== TEXT_KIND && sanctions.textOnlyUntil > now) {
      throw new ProtocolError(ErrorCode.forbidden, `only text may be sent until ${new Date(sanctions.textOnlyUntil).toISOString()}`);
    }
    if (userId !== SYSTEM_USER) this.quota.charge(userId, Buffer.byteLength(message.content, 'utf8'));
    return this.filter(message.content);
  }
}
