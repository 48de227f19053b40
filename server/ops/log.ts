/**
 * Structured logs with pino, one JSON line per event on stderr (stdout keeps the one "listening"
 * line). The gateway and logic log through the small `Logger` function type; each event name
 * has a level here, so a deployment filters by level without the code knowing pino.
 */
import { pino, type Level } from 'pino';
import type { Logger } from '../gateway/gateway.ts';
import type { LogLevel } from '../config.ts';

/** Events not listed are `info`. */
const LEVELS: Readonly<Record<string, Level>> = {
  'internal-error': 'error',
  'routing-error': 'error',
  'admin-error': 'error',
  'webhook-error': 'warn',
  'content-filter-error': 'error',
  'worker-crash': 'error',
  'fatal-error': 'warn',
  'push-timeout': 'warn',
  'respawn-limit': 'error',
  open: 'debug',
  idle: 'debug',
};

/** Fields that must never reach a log line, whatever a caller passes. */
const REDACT = ['password', 'token', 'fields.password', 'fields.token'];

/**
 * Lines waiting for a slow stderr (a pipe nobody reads, a stalled collector). Policy at the limit:
 * drop lines rather than block the event loop or grow without bound.
 */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** A logger whose lines still buffered can be written out before the process exits. */
export type FlushableLogger = Logger & { flush(): void };

export function pinoLogger(level: LogLevel, destination: number | NodeJS.WritableStream = 2, base: Record<string, unknown> = {}): FlushableLogger {
  if (level === 'silent') return Object.assign(() => {}, { flush: () => {} });
  const boom = typeof destination === 'number' ? pino.destination({ fd: destination, sync: false, maxLength: MAX_BUFFERED_BYTES }) : undefined;
  const stream = boom ?? (destination as NodeJS.WritableStream);
  const log = pino({ level, base: { pid: process.pid, ...base }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT, censor: '[redacted]' } }, stream);
  const logger: Logger = (event, fields) => {
    const at = LEVELS[event] ?? 'info';
    if (log.isLevelEnabled(at)) log[at]({ event, ...fields });
  };
  return Object.assign(logger, {
    flush: () => {
      try {
        boom?.flushSync();
      } catch {
        // At exit a stderr that cannot take the last lines loses them; nothing else can be done.
      }
    },
  });
}
