/**
 * Key names. Every key starts with the store's prefix (tenants and test runs share one server
 * without seeing each other), and keys that one script touches together carry the same hash tag
 * `{…}` (the user, or the conversation) so that they live in one slot on a Redis Cluster.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  account(userId: string): string {
    return `${this.prefix}acct:${userId}`;
  }
  token(tokenHash: string): string {
    return `${this.prefix}tok:${tokenHash}`;
  }
  sequence(conversationId: string): string {
    return `${this.prefix}seq:{${conversationId}}`;
  }
  historyMessages(conversationId: string): string {
    return `${this.prefix}hist:{${conversationId}}`;
  }
  historyIndex(conversationId: string): string {
    return `${this.prefix}hidx:{${conversationId}}`;
  }
  inboxVersion(userId: string): string {
    return `${this.prefix}ver:{${userId}}`;
  }
  inboxEpoch(userId: string): string {
    return `${this.prefix}epoch:{${userId}}`;
  }
  inboxEntries(userId: string): string {
    return `${this.prefix}inbox:{${userId}}`;
  }
  cursors(userId: string): string {
    return `${this.prefix}cur:{${userId}}`;
  }
  dedup(userId: string, clientMsgId: string): string {
    return `${this.prefix}dd:{${userId}}:${clientMsgId}`;
  }
  conversation(userId: string, conversationId: string): string {
    return `${this.prefix}conv:{${userId}}:${conversationId}`;
  }
  conversationOrder(userId: string): string {
    return `${this.prefix}convs:{${userId}}`;
  }
  /**
   * Set once a user's conversation rows are in Redis in full (production store: loaded from
   * Cassandra and history); its absence means Redis lost them, or never had them.
   */
  conversationsLoaded(userId: string): string {
    return `${this.prefix}cvok:{${userId}}`;
  }
  totalUnread(userId: string): string {
    return `${this.prefix}unread:{${userId}}`;
  }
  /** Online registry: device id → where its connection lives. */
  online(userId: string): string {
    return `${this.prefix}online:{${userId}}`;
  }
  /** Pub/sub channel of one server node. */
  nodeChannel(nodeId: string): string {
    return `${this.prefix}node:${nodeId}`;
  }
  /** Set once by the one recall of a message that wins (SET NX). */
  recallClaim(conversationId: string, seq: number): string {
    return `${this.prefix}rcl:{${conversationId}}:${seq}`;
  }
  /** A group's settings, membership version and last seq (one hash, one slot per group). */
  group(groupId: string): string {
    return `${this.prefix}grp:{g:${groupId}}`;
  }
  groupMembers(groupId: string): string {
    return `${this.prefix}gmem:{g:${groupId}}`;
  }
  groupReadSeqs(groupId: string): string {
    return `${this.prefix}grd:{g:${groupId}}`;
  }
  userGroups(userId: string): string {
    return `${this.prefix}ugrp:{${userId}}`;
  }
  /** A live room's reliable seq counter and its log of reliable messages. */
  roomSeq(roomId: string): string {
    return `${this.prefix}rseq:{${roomId}}`;
  }
  roomLog(roomId: string): string {
    return `${this.prefix}rlog:{${roomId}}`;
  }
  /** Viewers of a live room per node (node id → count). */
  roomOnline(roomId: string): string {
    return `${this.prefix}ronline:{${roomId}}`;
  }
  /** Pub/sub channel of a live room's broadcast. */
  roomChannel(roomId: string): string {
    return `${this.prefix}room:${roomId}`;
  }
  hidden(userId: string, conversationId: string): string {
    return `${this.prefix}hid:{${userId}}:${conversationId}`;
  }
  /** Muted until (ms); the key expires with the mute. */
  muted(userId: string): string {
    return `${this.prefix}mute:{${userId}}`;
  }
}

export const DEFAULT_KEY_PREFIX = 'tern:';
