/**
 * The correctness check of a load run: every message the server acknowledged must reach every
 * expected device exactly once, and each device must see a conversation's messages in seq order.
 * Zero losses, duplicates, order violations and misdeliveries is the only passing result.
 */
import type { MessageRecord } from '../protocol/bodies.ts';

export interface CheckResult {
  readonly acked: number;
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly losses: number;
  readonly duplicates: number;
  readonly orderViolations: number;
  /** Deliveries of messages this run never saw acknowledged (e.g. ACK lost with the connection). */
  readonly unacknowledgedDeliveries: number;
  /** Acknowledged messages that reached a device they were not for (e.g. the sending device itself). */
  readonly misdelivered: number;
}

interface DeviceView {
  readonly seen: Set<string>;
  readonly lastSeq: Map<string, number>;
}

export class DeliveryChecker {
  private readonly expected = new Map<string, readonly string[]>();
  private readonly devices = new Map<string, DeviceView>();
  private duplicates = 0;
  private orderViolations = 0;
  private delivered = 0;

  /** The server acknowledged `messageId`; it must reach each of `devices`. */
  acknowledged(messageId: string, devices: readonly string[]): void {
    this.expected.set(messageId, devices);
  }

  /** A device's app received a message. Returns false when it was a duplicate or out of order. */
  received(device: string, message: Pick<MessageRecord, 'messageId' | 'conversationId' | 'seq'>): boolean {
    let view = this.devices.get(device);
    if (!view) {
      view = { seen: new Set(), lastSeq: new Map() };
      this.devices.set(device, view);
    }
    if (view.seen.has(message.messageId)) {
      this.duplicates++;
      return false;
    }
    view.seen.add(message.messageId);
    this.delivered++;
    const last = view.lastSeq.get(message.conversationId) ?? 0;
    if (message.seq <= last) {
      this.orderViolations++;
      return false;
    }
    view.lastSeq.set(message.conversationId, message.seq);
    return true;
  }

  /** Acknowledged deliveries still missing; the run drains until this reaches zero or time is up. */
  missing(): number {
    let missing = 0;
    for (const [messageId, devices] of this.expected) for (const device of devices) if (!this.devices.get(device)?.seen.has(messageId)) missing++;
    return missing;
  }

  result(): CheckResult {
    let expectedDeliveries = 0;
    for (const devices of this.expected.values()) expectedDeliveries += devices.length;
    let acknowledgedSeen = 0;
    let misdelivered = 0;
    for (const [device, view] of this.devices) {
      for (const id of view.seen) {
        const targets = this.expected.get(id);
        if (!targets) continue;
        acknowledgedSeen++;
        if (!targets.includes(device)) misdelivered++;
      }
    }
    return {
      acked: this.expected.size,
      expectedDeliveries,
      delivered: this.delivered,
      losses: this.missing(),
      duplicates: this.duplicates,
      orderViolations: this.orderViolations,
      unacknowledgedDeliveries: this.delivered - acknowledgedSeen,
      misdelivered,
    };
  }
}
