/**
 * Which opcodes a connection state accepts, and which error wins when several apply: one table
 * for SPEC §7.1. The checks run in this order and the first that applies answers, before the
 * body is looked at (so an opcode refused in a state never costs a decode):
 *   1007 the opcode is not defined            (every state)
 *   1008 the opcode is S→C only               (every state)
 *   1008 hello after connected; anything but hello in connected; register/login when authenticated
 *   1010 a session request (or reserved opcode) before authenticated
 *   1011 a reserved opcode when authenticated
 *   then the body (1006) and the logic's own errors.
 */
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import { Opcode, isKnownOpcode } from '../../protocol/opcodes.ts';
import type { ConnectionState } from './connection.ts';
import { RESERVED_OPCODES, SESSION_ROUTES, type SessionRoute } from './routes.ts';

export type Admitted =
  | { readonly kind: 'ping' }
  | { readonly kind: 'hello' }
  | { readonly kind: 'auth' }
  | { readonly kind: 'pushAck' }
  | { readonly kind: 'session'; readonly route: SessionRoute };

const CLIENT_OPCODES = new Set<number>([Opcode.hello, Opcode.register, Opcode.login, Opcode.ping, Opcode.pushAck, ...SESSION_ROUTES.keys(), ...RESERVED_OPCODES]);

const hex = (opcode: number) => `0x${opcode.toString(16).padStart(4, '0')}`;

/** What the connection does with `opcode` in `state`, or the error that answers it. */
export function admit(state: ConnectionState, opcode: number): Admitted | ProtocolError {
  if (!isKnownOpcode(opcode)) return new ProtocolError(ErrorCode.unknownOpcode, `unknown opcode ${hex(opcode)}`);
  if (!CLIENT_OPCODES.has(opcode)) return new ProtocolError(ErrorCode.unexpectedOpcode, `opcode ${hex(opcode)} is not sent by clients`);
  if (opcode === Opcode.hello) return state === 'connected' ? { kind: 'hello' } : new ProtocolError(ErrorCode.unexpectedOpcode, 'hello was already sent');
  if (state === 'connected') return new ProtocolError(ErrorCode.unexpectedOpcode, 'the first frame must be hello');
  if (opcode === Opcode.ping) return { kind: 'ping' };
  if (opcode === Opcode.register || opcode === Opcode.login) {
    if (state === 'greeted') return { kind: 'auth' };
    return new ProtocolError(ErrorCode.unexpectedOpcode, state === 'authenticating' ? 'a login is in progress' : 'already logged in');
  }
  if (state !== 'authenticated') return new ProtocolError(ErrorCode.notAuthenticated);
  if (RESERVED_OPCODES.has(opcode)) return new ProtocolError(ErrorCode.unsupported, `opcode ${hex(opcode)} is reserved`);
  if (opcode === Opcode.pushAck) return { kind: 'pushAck' };
  return { kind: 'session', route: SESSION_ROUTES.get(opcode) as SessionRoute };
}
