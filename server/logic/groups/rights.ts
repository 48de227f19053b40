/**
 * Who may do what in a group: SPEC §18.3 as data. An action names the roles allowed to take it
 * and, for actions on another member, whether the actor must outrank the target.
 */
import { GroupRole } from '../../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../../protocol/errors.ts';

export type GroupAction = 'invite' | 'remove' | 'setRole' | 'transfer' | 'mute' | 'update' | 'dissolve' | 'leave';

interface Right {
  readonly roles: readonly number[];
  /** The actor's role must be strictly above the target's (owner > admin > member). */
  readonly outranksTarget: boolean;
  /** In an open group every member may take the action. */
  readonly membersWhenOpen?: boolean;
}

const { owner, admin, member } = GroupRole;

export const GROUP_RIGHTS: Readonly<Record<GroupAction, Right>> = {
  invite: { roles: [owner, admin], outranksTarget: false, membersWhenOpen: true },
  remove: { roles: [owner, admin], outranksTarget: true },
  setRole: { roles: [owner], outranksTarget: true },
  transfer: { roles: [owner], outranksTarget: true },
  mute: { roles: [owner, admin], outranksTarget: true },
  update: { roles: [owner, admin], outranksTarget: false },
  dissolve: { roles: [owner], outranksTarget: false },
  leave: { roles: [admin, member], outranksTarget: false },
};

/** Throws 4005 (or 4006 for an owner leaving) unless `role` may take `action` on `targetRole`. */
export function checkRight(action: GroupAction, role: number, options: { readonly open?: boolean; readonly targetRole?: number } = {}): void {
  const right = GROUP_RIGHTS[action];
  const allowed = right.roles.includes(role) || (right.membersWhenOpen === true && options.open === true);
  if (!allowed) {
    if (action === 'leave') throw new ProtocolError(ErrorCode.ownerCannotLeave);
    throw new ProtocolError(ErrorCode.groupRightMissing, `your role may not ${action} in this group`);
  }
  if (right.outranksTarget && options.targetRole !== undefined && !(role < options.targetRole)) {
    throw new ProtocolError(ErrorCode.groupRightMissing, `your role may not ${action} a member of equal or higher role`);
  }
}
