/** Offline sync by inbox version, and history pages by conversation sequence. */
import { Entry, Message, type BodyOf, type MessageRecord } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { HistoryStore, InboxStore } from '../../storage/ports.ts';
import type { SessionInfo } from '../seam.ts';
import { participants } from './ids.ts';
import { fitting, type PageBudget } from './page-budget.ts';

export const DEFAULT_SYNC_PAGE = 200;
export const MAX_SYNC_PAGE = 200;
export const DEFAULT_HISTORY_PAGE = 20;
export const MAX_HISTORY_PAGE = 100;

export class Sync {
  constructor(
    private readonly inbox: InboxStore,
    private readonly history: HistoryStore,
    private readonly visible: (userId: string, messages: MessageRecord[]) => Promise<MessageRecord[]>,
    private readonly budget: PageBudget,
  ) {}

  /**
   * One page after `sinceVersion`. Asking for it acknowledges everything up to sinceVersion. A
   * position that is not in this inbox's stream (another epoch, or a version ahead of it) is
   * answered with a reset page, since the versions the client holds say nothing about this inbox.
   */
  async sync(session: SessionInfo, body: BodyOf<'sync'>): Promise<BodyOf<'syncPage'>> {
    const limit = Math.max(1, Math.min(body.limit || DEFAULT_SYNC_PAGE, MAX_SYNC_PAGE));
    const read = await this.inbox.read(session.userId, body.sinceVersion, limit, this.budget.budgetBytes);
    const { epoch, latestVersion } = read;
    if (body.epoch !== undefined && (body.epoch !== epoch || body.sinceVersion > latestVersion)) {
      // The inbox lost state (a new epoch), or lost versions it had handed out: the client
      // recovers from history and syncs this epoch from its start (SPEC §11.6).
      await this.inbox.setCursor(session.userId, session.deviceId, 0);
      return { entries: [], hasMore: false, lastVersion: 0, latestVersion, epoch, reset: true };
    }
    if (body.sinceVersion > latestVersion) {
      // A client that names no epoch, ahead of the inbox: an empty page at the inbox's latest
      // version moves it back, so the entries that come next are not taken for duplicates (SPEC §11.3).
      await this.inbox.setCursor(session.userId, session.deviceId, latestVersion);
      return { entries: [], hasMore: false, lastVersion: latestVersion, latestVersion, epoch };
    }
    if (body.sinceVersion < latestVersion && body.sinceVersion + 1 < read.oldestVersion) {
      throw new ProtocolError(ErrorCode.versionTooOld, `version ${body.sinceVersion} is older than the oldest kept (${read.oldestVersion})`);
    }
    const kept = fitting(read.entries, Entry.wire, this.budget);
    if (kept === 0 && read.entries.length > 0) throw new ProtocolError(ErrorCode.internal, `entry ${read.entries[0]?.version} is larger than a frame`);
    const entries = kept < read.entries.length ? read.entries.slice(0, kept) : read.entries;
    // The cursor is bookkeeping, not a delivery promise (a lost one costs a re-download the client
    // dedups), so the page does not wait for its commit.
    await this.inbox.setCursor(session.userId, session.deviceId, body.sinceVersion);
    const lastVersion = entries.at(-1)?.version ?? body.sinceVersion;
    return { entries, hasMore: lastVersion < latestVersion, lastVersion, latestVersion, epoch };
  }

  async historyPage(session: SessionInfo, body: BodyOf<'history'>): Promise<BodyOf<'historyPage'>> {
    const members = participants(body.conversationId);
    if (!members?.includes(session.userId)) throw new ProtocolError(ErrorCode.forbidden, 'not a participant of this conversation');
    return this.readableHistory(session.userId, body, 1);
  }

  /**
   * A history page within the budget for a reader who may see the conversation from `fromSeq`
   * on (a group member from their join), without what they deleted for themselves.
   */
  async readableHistory(userId: string, body: BodyOf<'history'>, fromSeq: number): Promise<BodyOf<'historyPage'>> {
    const limit = Math.max(1, Math.min(body.limit || DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE));
    const page = await this.history.page(body.conversationId, body.beforeSeq, limit, this.budget.budgetBytes);
    const inView = page.messages.filter((m) => m.seq >= fromSeq);
    const messages = await this.visible(userId, inView);
    const kept = fitting(messages, Message.wire, this.budget);
    if (kept === 0 && messages.length > 0) throw new ProtocolError(ErrorCode.internal, `message ${messages[0]?.seq} is larger than a frame`);
    // Older messages remain only if the page did not reach the reader's first seq.
    const hasMore = page.hasMore && inView.length === page.messages.length;
    if (kept === messages.length) return { conversationId: body.conversationId, messages, hasMore };
    return { conversationId: body.conversationId, messages: messages.slice(0, kept), hasMore: true };
  }
}
