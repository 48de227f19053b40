/** Offline sync by inbox version, and history pages by conversation sequence. */
import { MAX_PAGE_ENTRIES, type BodyOf, type MessageRecord } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { HistoryStore, InboxStore } from '../../storage/ports.ts';
import type { SessionInfo } from '../seam.ts';
import { participants } from './ids.ts';

export const DEFAULT_SYNC_PAGE = 200;
export const DEFAULT_HISTORY_PAGE = 20;
export const MAX_HISTORY_PAGE = 100;

export class Sync {
  constructor(
    private readonly inbox: InboxStore,
    private readonly history: HistoryStore,
    private readonly visible: (userId: string, messages: MessageRecord[]) => Promise<MessageRecord[]>,
  ) {}

  /** One page after `sinceVersion`. Asking for it acknowledges everything up to sinceVersion. */
  async sync(session: SessionInfo, body: BodyOf<'sync'>): Promise<BodyOf<'syncPage'>> {
    const limit = Math.max(1, Math.min(body.limit || DEFAULT_SYNC_PAGE, MAX_PAGE_ENTRIES));
    const read = await this.inbox.read(session.userId, body.sinceVersion, limit);
    if (body.sinceVersion < read.latestVersion && body.sinceVersion + 1 < read.oldestVersion) {
      throw new ProtocolError(ErrorCode.versionTooOld, `version ${body.sinceVersion} is older than the oldest kept (${read.oldestVersion})`);
    }
    if (body.sinceVersion > read.latestVersion) throw new ProtocolError(ErrorCode.badAck, `version ${body.sinceVersion} is ahead of the inbox (${read.latestVersion})`);
    // The cursor is bookkeeping, not a delivery promise (a lost one costs a re-download the client
    // dedups), so the page does not wait for its commit.
    await this.inbox.setCursor(session.userId, session.deviceId, body.sinceVersion);
    const lastVersion = read.entries.at(-1)?.version ?? body.sinceVersion;
    return { entries: read.entries, hasMore: lastVersion < read.latestVersion, lastVersion, latestVersion: read.latestVersion };
  }

  async historyPage(session: SessionInfo, body: BodyOf<'history'>): Promise<BodyOf<'historyPage'>> {
    const members = participants(body.conversationId);
    if (!members?.includes(session.userId)) throw new ProtocolError(ErrorCode.forbidden, 'not a participant of this conversation');
    const limit = Math.max(1, Math.min(body.limit || DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE));
    const page = await this.history.page(body.conversationId, body.beforeSeq, limit);
    return { conversationId: body.conversationId, messages: await this.visible(session.userId, page.messages), hasMore: page.hasMore };
  }
}
