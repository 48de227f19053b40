/**
 * Read seqs on Cassandra only move forward, without a lightweight transaction: every read seq
 * cell is written with a write time made from the seq itself, and Cassandra keeps the cell with
 * the highest write time. So of two marks written concurrently (two devices, two nodes) the
 * higher one stays whatever order they arrive in, and a mark replayed late never moves one back.
 *
 * The times start at 2^52 µs (year 2112 as a wall clock), above every write time a cell written
 * with the server's clock has, so the first such write also wins over cells of older releases.
 * A read seq column must only ever be written through this (a plain write would be shadowed).
 */
const READ_SEQ_TIME_BASE = 2n ** 52n;

/** The `USING TIMESTAMP` of a read seq cell holding `seq`. */
export function readSeqWriteTime(seq: number): bigint {
  return READ_SEQ_TIME_BASE + BigInt(seq);
}
