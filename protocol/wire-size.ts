/**
 * An upper bound on the msgpack size of a body, computed from its schema without encoding it.
 * The server fills pages to a byte budget with it (SPEC §15.1), so a page is cut before it is
 * encoded rather than encoded, found too large and encoded again.
 */
import type { WireShape } from './schema.ts';

function uintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x100) return 2;
  if (value < 0x10000) return 3;
  return value < 0x100000000 ? 5 : 9;
}

function strSize(value: string): number {
  // An upper bound without scanning: ASCII is 1 byte per unit, anything else at most 3 per unit.
  const bytes = value.length < 64 ? value.length * 3 : Buffer.byteLength(value, 'utf8');
  return (bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5) + bytes;
}

function arrayHeader(length: number): number {
  return length < 16 ? 1 : length < 0x10000 ? 3 : 5;
}

/** At least as many bytes as the encoder writes for `value` described by `shape`. */
export function wireSize(shape: WireShape, value: unknown): number {
  switch (shape.kind) {
    case 'uint':
      return uintSize(value as number);
    case 'bool':
      return 1;
    case 'str':
      return strSize(value as string);
    case 'bin':
      return 5 + (value as Uint8Array).length;
    case 'optional':
      return value === undefined || value === null ? 1 : wireSize(shape.inner, value);
    case 'list': {
      const items = value as readonly unknown[];
      let size = arrayHeader(items.length);
      for (const item of items) size += wireSize(shape.of, item);
      return size;
    }
    case 'record': {
      const fields = value as Record<string, unknown>;
      let size = arrayHeader(shape.fields.length);
      for (let i = 0; i < shape.fields.length; i++) size += wireSize(shape.fields[i] as WireShape, fields[shape.names[i] as string]);
      return size;
    }
  }
}
