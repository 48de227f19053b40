/**
 * 1:1 messaging: commit first, push second, acknowledge third. A message is stored once in the
 * conversation history (read diffusion) and entered in the receiver's inbox and, as a carbon, in
 * the sender's (write diffusion), so every device of both users can sync it. Everything a message
 * writes is one storage commit.
 */
import { EntryType, TEXT_KIND, type BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { CommittedMessage, Stores } from '../../storage/ports.ts';
import type { SessionInfo } from '../seam.ts';
import type { Clock } from './clock.ts';
import { checkUserId, directConversationId, newMessageId } from './ids.ts';
import { KnownUsers } from './known-users.ts';
import type { SendQuota } from './send-quota.ts';
import { OrderedRelease } from './ordered-release.ts';

/** Where the logic sends entries for delivery to a user's online devices. */
export type Fanout = (userId: string, entry: BodyOf<'push'>, exceptDeviceId?: string) => void;

/** `kind` 1 is text (SPEC §5.2); every other kind is media or application-defined. */

function epochOf(epoch: string | undefined): { epoch?: string } {
  return epoch === undefined ? {} : { epoch };
}

export class Messaging {
  private readonly receivers: KnownUsers;

  /** Pushes of a conversation leave in seq order. */
  private readonly releases = new OrderedRelease();

  constructor(
    private readonly stores: Pick<Stores, 'accounts' | 'messages' | 'moderation'>,
    private readonly clock: Clock,
    private readonly fanout: Fanout,
    private readonly quota: SendQuota,
    /** The content to store for the content a sender gave (masked), or a 3003 ProtocolError. */
    private readonly filter: (content: string) => string = (content) => content,
  ) {
    this.receivers = new KnownUsers(stores.accounts);
  }

  async send(session: SessionInfo, body: BodyOf<'send'>): Promise<BodyOf<'sendAck'>> {
    const to = checkUserId(body.to);
    if (to === session.userId) throw new ProtocolError(ErrorCode.forbidden, 'a 1:1 message needs another user as receiver');
    const exists = this.receivers.exists(to);
    const sanctions = this.stores.moderation.get(session.userId);
    if (!(exists === true || (await exists))) throw new ProtocolError(ErrorCode.notFound, `user "${to}" does not exist`);
    const { mutedUntil, textOnlyUntil } = await sanctions;
    const now = this.clock.now();
    if (mutedUntil > now) throw new ProtocolError(ErrorCode.forbidden, `muted by an operator until ${new Date(mutedUntil).toISOString()}`);
    if (body.kind !== TEXT_KIND && textOnlyUntil > now) throw new ProtocolError(ErrorCode.forbidden, `only text may be sent until ${new Date(textOnlyUntil).toISOString()}`);
    // Charged before anything is stored; a resend is a send too (it costs a request and a lookup).
    this.quota.charge(session.userId, Buffer.byteLength(body.content, 'utf8'));
    const conversationId = directConversationId(session.userId, to);
    const content = this.filter(body.content);
    const sentAt = this.clock.now();
    const committing = this.stores.messages.commit({
      from: session.userId,
      to,
      conversationId,
      clientMsgId: body.clientMsgId,
      kind: body.kind,
      content,
      messageId: newMessageId(sentAt),
      sentAt,
    });
    const committed = await this.releases.run(conversationId, committing, (c) => this.push(session, c));
    const { message } = committed;
    return { messageId: message.messageId, conversationId, seq: message.seq, serverTime: message.sentAt, version: committed.senderVersion, ...epochOf(committed.senderEpoch) };
  }

  private push(session: SessionInfo, committed: CommittedMessage): void {
    if (!committed.fresh) return;
    const { message } = committed;
    const entry = { type: EntryType.message, conversationId: message.conversationId, seq: message.seq, message };
    this.fanout(message.to, { ...entry, version: committed.receiverVersion, ...epochOf(committed.receiverEpoch) });
    this.fanout(session.userId, { ...entry, version: committed.senderVersion, ...epochOf(committed.senderEpoch) }, session.deviceId);
  }
}
