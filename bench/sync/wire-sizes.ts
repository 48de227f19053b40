/**
 * Bytes per sync page from the frames the server really sent: the LZ4 body as it crossed the
 * socket, the msgpack body it decompresses to, and what gzip level 6 would have made of the same
 * msgpack. Sizes include the 16-byte frame header, which every variant would carry.
 */
import { gzipSync } from 'node:zlib';
import { isCompressed, plainBody, readBody, type Frame } from '../../codec/index.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { HEADER_SIZE } from '../../protocol/header.ts';

export interface PageSizes {
  /** Full pages measured (pages with exactly `entries` entries). */
  readonly pages: number;
  readonly entries: number;
  /** Mean frame bytes per page. */
  readonly asSent: number;
  readonly msgpack: number;
  readonly gzip6: number;
  /** Pages the server sent without LZ4 (it skips LZ4 when that saves nothing). */
  readonly uncompressed: number;
}

export function pageSizes(frames: readonly Frame[], entriesPerPage: number): PageSizes {
  let pages = 0;
  let asSent = 0;
  let msgpack = 0;
  let gzip6 = 0;
  let uncompressed = 0;
  for (const frame of frames) {
    if (readBody(frame, Bodies.syncPage).entries.length !== entriesPerPage) continue;
    const plain = plainBody(frame);
    pages++;
    asSent += HEADER_SIZE + frame.body.length;
    msgpack += HEADER_SIZE + plain.length;
    gzip6 += HEADER_SIZE + gzipSync(plain, { level: 6 }).length;
    if (!isCompressed(frame)) uncompressed++;
  }
  if (pages === 0) throw new Error(`no sync page of ${entriesPerPage} entries was received`);
  return { pages, entries: entriesPerPage, asSent: asSent / pages, msgpack: msgpack / pages, gzip6: gzip6 / pages, uncompressed };
}

/** Bytes of every frame, header included: what the pull put on the wire. */
export function totalBytes(frames: readonly Frame[]): number {
  return frames.reduce((sum, frame) => sum + HEADER_SIZE + frame.body.length, 0);
}
