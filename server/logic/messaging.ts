/**
 * 1:1 messaging: commit first, push second, acknowledge third. A message is stored once in the
 * conversation history (read diffusion) and entered in the receiver's inbox and, as a carbon, in
 * the sender's (write diffusion), so every device of both users can sync it. Everything a message
 * writes is one storage commit.
 */
import { EntryType, type BodyOf, type MessageRecord } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { CommittedMessage, Stores } from '../../storage/ports.ts';
import type { SessionInfo } from '../seam.ts';
import type { Clock } from './clock.ts';
import { checkUserId, directConversationId, newMessageId } from './ids.ts';
import { KnownUsers } from './known-users.ts';
import type { PreSend } from './pre-send.ts';
import { OrderedRelease } from './ordered-release.ts';

/** Where the logic sends entries for delivery to a user's online devices. */
export type Fanout = (userId: string, entry: BodyOf<'push'>, exceptDeviceId?: string) => void;

/** Told of each message once it is stored for the first time (not for a deduplicated resend): 1:1 and group posts. */
export type AfterSend = (message: MessageRecord) => void;

function epochOf(epoch: string | undefined): { epoch?: string } {
  return epoch === undefined ? {} : { epoch };
}

export class Messaging {
  private readonly receivers: KnownUsers;

  /** Pushes of a conversation leave in seq order. */
  private readonly releases = new OrderedRelease();

  constructor(
    private readonly stores: Pick<Stores, 'accounts' | 'messages'>,
    private readonly clock: Clock,
    private readonly fanout: Fanout,
    private readonly preSend: PreSend,
    private readonly afterSend: AfterSend = () => undefined,
  ) {
    this.receivers = new KnownUsers(stores.accounts);
  }

  async send(session: SessionInfo, body: BodyOf<'send'>): Promise<BodyOf<'sendAck'>> {
    const to = checkUserId(body.to);
    if (to === session.userId) throw new ProtocolError(ErrorCode.forbidden, 'a 1:1 message needs another user as receiver');
    const exists = this.receivers.exists(to);
    const sanctions = this.preSend.sanctions(session.userId);
    if (!(exists === true || (await exists))) throw new ProtocolError(ErrorCode.notFound, `user "${to}" does not exist`);
    // Checked and charged before anything is stored; a resend is a send too (it costs a request and a lookup).
    const content = this.preSend.admit(session.userId, await sanctions, body);
    const conversationId = directConversationId(session.userId, to);
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
    this.afterSend(message);
  }
}
