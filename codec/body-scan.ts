/**
 * A bounded pre-scan of received msgpack bytes against a body's wire shape, run before the
 * msgpack decoder materialises anything. Decoding first and checking after let one 33 KB frame
 * expand into millions of nested arrays or an 8 MiB string before the schema said no; the scan
 * walks the bytes once, allocates nothing, and rejects as soon as a header announces more than
 * the schema allows:
 *   - nesting deeper than MAX_DEPTH arrays (v1's deepest body, syncPage → Entry → Message, needs 4);
 *   - a string whose byte length exceeds 3 × its limit in UTF-16 units (the most UTF-8 can take),
 *     or whose bytes are not valid UTF-8 (a replacement character would make push and history
 *     disagree with what was sent);
 *   - an array or list longer than its schema limit, before its elements are read;
 *   - a float, negative integer, map or extension where the schema wants something else.
 * Elements appended by a later protocol revision are skipped with the same depth and UTF-8 rules.
 * Every rejection is 1006 badBody naming the field.
 */
import { isUtf8 } from 'node:buffer';
import { ErrorCode, ProtocolError } from '../protocol/errors.ts';
import { FieldError, type WireShape } from '../protocol/schema.ts';

/** Array nesting a body may have; deeper input is rejected without being followed (policy: reject, 1006). */
export const MAX_DEPTH = 4;

class Scanner {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw new ProtocolError(ErrorCode.badBody, 'body is not valid msgpack: truncated');
    return this.bytes[this.pos++] as number;
  }

  uint(size: 1 | 2 | 4): number {
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.byte();
    return value;
  }

  peekNegative(): boolean {
    return ((this.bytes[this.pos] ?? 0) & 0x80) !== 0;
  }

  skip(n: number): void {
    if (n > this.bytes.length - this.pos) throw new ProtocolError(ErrorCode.badBody, 'body is not valid msgpack: truncated');
    this.pos += n;
  }

  utf8(n: number): boolean {
    const start = this.pos;
    this.skip(n);
    return isUtf8(this.bytes.subarray(start, this.pos));
  }
}

/** Length of a string header at `tag`, or -1 when `tag` is not a string format. */
function strLength(s: Scanner, tag: number): number {
  if (tag >= 0xa0 && tag <= 0xbf) return tag - 0xa0;
  if (tag === 0xd9) return s.uint(1);
  if (tag === 0xda) return s.uint(2);
  if (tag === 0xdb) return s.uint(4);
  return -1;
}

/** Element count of an array header at `tag`, or -1 when `tag` is not an array format. */
function arrayLength(s: Scanner, tag: number): number {
  if (tag >= 0x90 && tag <= 0x9f) return tag - 0x90;
  if (tag === 0xdc) return s.uint(2);
  if (tag === 0xdd) return s.uint(4);
  return -1;
}

function isUintTag(tag: number): boolean {
  return tag <= 0x7f || (tag >= 0xcc && tag <= 0xcf) || (tag >= 0xd0 && tag <= 0xd3);
}

const UINT_SIZE: Record<number, number> = { 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8 };

function scanField(s: Scanner, shape: WireShape, path: string, depth: number): void {
  const tag = s.byte();
  switch (shape.kind) {
    case 'uint': {
      // Floats are refused here: the decoder would turn 1.0 into the integer 1.
      if (!isUintTag(tag)) throw new FieldError(path, 'uint < 2^53');
      // A signed format must hold a non-negative value: the top bit of its first byte is clear.
      if (tag >= 0xd0 && s.peekNegative()) throw new FieldError(path, 'uint < 2^53');
      if (tag > 0x7f) s.skip(UINT_SIZE[tag] as number);
      return;
    }
    case 'bool':
      if (tag !== 0xc2 && tag !== 0xc3) throw new FieldError(path, 'bool');
      return;
    case 'str': {
      const length = strLength(s, tag);
      if (length < 0 || length > 3 * shape.maxUnits) throw new FieldError(path, `str ≤ ${shape.maxUnits}`);
      if (!s.utf8(length)) throw new FieldError(path, 'valid UTF-8');
      return;
    }
    case 'bin': {
      const length = tag === 0xc4 ? s.uint(1) : tag === 0xc5 ? s.uint(2) : tag === 0xc6 ? s.uint(4) : -1;
      if (length < 0 || length > shape.max) throw new FieldError(path, `bin ≤ ${shape.max}`);
      s.skip(length);
      return;
    }
    case 'optional':
      if (tag === 0xc0) return;
      s.pos--;
      return scanField(s, shape.inner, path, depth);
    case 'list': {
      const count = arrayLength(s, tag);
      if (count < 0 || count > shape.max || depth >= MAX_DEPTH) throw new FieldError(path, depth >= MAX_DEPTH ? `nesting ≤ ${MAX_DEPTH}` : shape.describe);
      for (let i = 0; i < count; i++) within(path, `[${i}]`, () => scanField(s, shape.of, '', depth + 1));
      return;
    }
    case 'record': {
      const count = arrayLength(s, tag);
      if (count < shape.required || depth >= MAX_DEPTH) {
        throw new FieldError(path, depth >= MAX_DEPTH ? `nesting ≤ ${MAX_DEPTH}` : `${shape.describe} with at least ${shape.required} elements`);
      }
      const known = Math.min(count, shape.fields.length);
      for (let i = 0; i < known; i++) within(path, '', () => scanField(s, shape.fields[i] as WireShape, shape.names[i] as string, depth + 1));
      for (let i = known; i < count; i++) skipValue(s, depth + 1, path);
      return;
    }
  }
}

function within(path: string, part: string, scan: () => void): void {
  try {
    scan();
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    if (part) error.within(part);
    throw path ? error.within(path) : error;
  }
}

/**
 * Skips one value of any type, iteratively: `pending` counts the values still to skip at each
 * open level, so neither the input nor this function recurses past MAX_DEPTH.
 */
function skipValue(s: Scanner, depth: number, path: string): void {
  const pending: number[] = [1];
  while (pending.length > 0) {
    const top = pending.length - 1;
    if (pending[top] === 0) {
      pending.pop();
      continue;
    }
    pending[top] = (pending[top] as number) - 1;
    const tag = s.byte();
    const str = strLength(s, tag);
    if (str >= 0) {
      if (!s.utf8(str)) throw new FieldError(path, 'valid UTF-8');
      continue;
    }
    let children = arrayLength(s, tag);
    if (children < 0) children = mapLength(s, tag) * 2;
    if (children >= 0) {
      if (depth + pending.length > MAX_DEPTH) throw new FieldError(path, `nesting ≤ ${MAX_DEPTH}`);
      // Each element takes at least one byte: a count beyond the bytes left is a lie, caught early.
      if (children > s.remaining) throw new ProtocolError(ErrorCode.badBody, 'body is not valid msgpack: truncated');
      pending.push(children);
      continue;
    }
    skipScalar(s, tag);
  }
}

function mapLength(s: Scanner, tag: number): number {
  if (tag >= 0x80 && tag <= 0x8f) return tag - 0x80;
  if (tag === 0xde) return s.uint(2);
  if (tag === 0xdf) return s.uint(4);
  return -1;
}

const FIXED_SIZE: Record<number, number> = { 0xc0: 0, 0xc2: 0, 0xc3: 0, 0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8 };

function skipScalar(s: Scanner, tag: number): void {
  if (tag <= 0x7f || tag >= 0xe0) return;
  const fixed = FIXED_SIZE[tag];
  if (fixed !== undefined) return s.skip(fixed);
  if (tag >= 0xc4 && tag <= 0xc6) return s.skip(s.uint(tag === 0xc4 ? 1 : tag === 0xc5 ? 2 : 4));
  // 0xc1 is never used; extensions are not part of v1 (and the decoder refuses them).
  throw new ProtocolError(ErrorCode.badBody, `body is not valid msgpack: type 0x${tag.toString(16)} is not allowed`);
}

/** Checks `bytes` against `shape` without materialising anything; throws a 1006 ProtocolError. */
export function scanBody(bytes: Uint8Array, shape: WireShape): void {
  const s = new Scanner(bytes);
  scanField(s, shape, 'body', 0);
  if (!s.done) throw new ProtocolError(ErrorCode.badBody, 'body has trailing bytes after its msgpack value');
}

/** The same bounds for a body of unknown shape: depth, strict UTF-8, one value filling the bytes. */
export function scanAny(bytes: Uint8Array): void {
  const s = new Scanner(bytes);
  skipValue(s, 0, 'body');
  if (!s.done) throw new ProtocolError(ErrorCode.badBody, 'body has trailing bytes after its msgpack value');
}
