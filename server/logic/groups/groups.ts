/**
 * Groups behind the seam: the group requests, and the group side of the requests that name a
 * conversation (history, markRead, deleteForMe, the conversation list). A store without group
 * support answers every group request with 1011.
 */
import type { BodyOf, ConversationRecord } from '../../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../../protocol/errors.ts';
import type { GroupStore, Stores } from '../../../storage/ports.ts';
import type { SessionInfo, SessionRequests } from '../../seam.ts';
import type { Clock } from '../clock.ts';
import type { AfterSend, Fanout } from '../messaging.ts';
import type { Routing } from '../../routing/port.ts';
import type { PreSend } from '../pre-send.ts';
import { GroupDelivery } from './delivery.ts';
import { DEFAULT_GROUP_LIMITS, GroupMembership, type GroupLimits } from './membership.ts';
import { groupIdOf, GroupTimeline, type GroupPages } from './timeline.ts';

export type GroupRequestName = Extract<keyof SessionRequests, `group${string}`>;
type GroupHandlers = { [N in GroupRequestName]: (session: SessionInfo, body: SessionRequests[N]['body']) => Promise<SessionRequests[N]['reply']> };

export class Groups {
  readonly handlers: GroupHandlers;
  readonly delivery: GroupDelivery;
  private readonly membership: GroupMembership | undefined;
  private readonly timeline: GroupTimeline | undefined;

  constructor(stores: Stores, clock: Clock, routing: () => Routing, fanout: Fanout, preSend: PreSend, pages: GroupPages, limits: GroupLimits = DEFAULT_GROUP_LIMITS, afterSend?: AfterSend) {
    this.delivery = new GroupDelivery(routing);
    const groups: GroupStore | undefined = stores.groups;
    if (groups) {
      this.membership = new GroupMembership(groups, stores.accounts, clock, this.delivery, limits);
      this.timeline = new GroupTimeline(groups, stores, this.membership, clock, this.delivery, fanout, preSend, pages, afterSend);
    }
    const m = () => this.served().membership;
    const t = () => this.served().timeline;
    this.handlers = {
      groupCreate: (s, b) => m().create(s, b),
      groupInvite: (s, b) => m().invite(s, b),
      groupLeave: (s, b) => m().leave(s, b),
      groupMembers: (s, b) => m().members(s, b),
      groupGet: (s, b) => m().get(s, b),
      groupJoin: (s, b) => m().join(s, b),
      groupRemove: (s, b) => m().remove(s, b),
      groupSetRole: (s, b) => m().setRole(s, b),
      groupMute: (s, b) => m().mute(s, b),
      groupUpdate: (s, b) => m().update(s, b),
      groupDissolve: (s, b) => m().dissolve(s, b),
      groupSend: (s, b) => t().send(s, b),
      groupSync: (s, b) => t().sync(s, b),
      groupReceipts: (s, b) => t().receipts(s, b, limits.receiptsMaxMembers),
    };
  }

  /** A post from the system sender to a group (the admin API); 3001 when the group does not exist. */
  systemPost(groupId: string, sender: string, body: { clientMsgId: string; kind: number; content: string }): Promise<BodyOf<'sendAck'>> {
    return this.served().timeline.systemPost(groupId, sender, body);
  }

  /** The group id of a group conversation id, or undefined for any other conversation. */
  groupOf(conversationId: string): string | undefined {
    return groupIdOf(conversationId);
  }

  history(session: SessionInfo, groupId: string, body: BodyOf<'history'>): Promise<BodyOf<'historyPage'>> {
    return this.served().timeline.history(session, groupId, body);
  }

  markRead(session: SessionInfo, groupId: string, body: BodyOf<'markRead'>): Promise<BodyOf<'ok'>> {
    return this.served().timeline.markRead(session, groupId, body);
  }

  deleteForMe(session: SessionInfo, groupId: string, body: BodyOf<'deleteForMe'>): Promise<BodyOf<'ok'>> {
    return this.served().timeline.deleteForMe(session, groupId, body);
  }

  /** The user's group rows for the conversation list; none when groups are not served. */
  conversations(userId: string): Promise<ConversationRecord[]> {
    return this.timeline ? this.timeline.conversations(userId) : Promise.resolve([]);
  }

  private served(): { membership: GroupMembership; timeline: GroupTimeline } {
    if (!this.membership || !this.timeline) throw new ProtocolError(ErrorCode.unsupported, 'this server\'s store does not serve groups');
    return { membership: this.membership, timeline: this.timeline };
  }
}
