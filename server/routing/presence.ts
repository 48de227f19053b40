import type { ConnectionId, SessionInfo } from '../seam.ts';

/**
 * Which devices of a user are online here, and on which connection. One session per device id
 * and one per platform: registering a session returns the sessions it replaces.
 */
export class Presence {
  private readonly byUser = new Map<string, Map<string, SessionInfo>>();

  /** Adds the session and returns the older sessions it replaces (same device id or same platform). */
  add(session: SessionInfo): SessionInfo[] {
    let devices = this.byUser.get(session.userId);
    if (!devices) {
      devices = new Map();
      this.byUser.set(session.userId, devices);
    }
    const replaced: SessionInfo[] = [];
    for (const [deviceId, other] of devices) {
      if (deviceId === session.deviceId || other.platform === session.platform) {
        replaced.push(other);
        devices.delete(deviceId);
      }
    }
    devices.set(session.deviceId, session);
    return replaced;
  }

  /** Removes the session if it is still the current one for its device. */
  remove(session: SessionInfo): void {
    const devices = this.byUser.get(session.userId);
    if (devices?.get(session.deviceId)?.connectionId !== session.connectionId) return;
    devices.delete(session.deviceId);
    if (devices.size === 0) this.byUser.delete(session.userId);
  }

  /** Connections of a user's online devices, optionally without one device. */
  connections(userId: string, exceptDeviceId?: string): ConnectionId[] {
    const devices = this.byUser.get(userId);
    if (!devices) return [];
    const out: ConnectionId[] = [];
    for (const session of devices.values()) if (session.deviceId !== exceptDeviceId) out.push(session.connectionId);
    return out;
  }

  /** Appends the connections of a user's online devices to `out`, optionally without one device. */
  collect(userId: string, out: ConnectionId[], exceptDeviceId?: string): void {
    const devices = this.byUser.get(userId);
    if (!devices) return;
    for (const session of devices.values()) if (session.deviceId !== exceptDeviceId) out.push(session.connectionId);
  }

  /** The sessions of a user's online devices. */
  sessions(userId: string): SessionInfo[] {
    return [...(this.byUser.get(userId)?.values() ?? [])];
  }

  get onlineUsers(): number {
    return this.byUser.size;
  }

  get sessionCount(): number {
    let n = 0;
    for (const devices of this.byUser.values()) n += devices.size;
    return n;
  }
}
