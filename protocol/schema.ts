/**
 * A tiny schema language for message bodies. Every body travels as a msgpack array whose
 * elements are the record's fields in declaration order, so field names never cross the wire.
 * Decoding validates the untrusted value and returns a typed object, or throws a ProtocolError
 * with code badBody that names the offending field.
 */
import { ErrorCode, ProtocolError } from './errors.ts';

/**
 * What a field may look like on the wire, for the bounded pre-scan of received bytes
 * (codec/body-scan.ts) that runs before anything is materialised.
 */
export type WireShape =
  | { readonly kind: 'uint' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'str'; readonly maxUnits: number }
  | { readonly kind: 'bin'; readonly max: number }
  | { readonly kind: 'list'; readonly of: WireShape; readonly max: number; readonly describe: string }
  | { readonly kind: 'optional'; readonly inner: WireShape }
  | { readonly kind: 'record'; readonly fields: readonly WireShape[]; readonly names: readonly string[]; readonly required: number; readonly describe: string };

export interface FieldType<T> {
  /** Human and spec-facing description of the msgpack type, e.g. "uint", "str ≤ 64". */
  readonly describe: string;
  readonly optional: boolean;
  readonly wire: WireShape;
  check(value: unknown, path: string): T;
  toWire(value: T): unknown;
}

/** Any field type, whatever it decodes to; used where only the shape matters. */
export interface AnyFieldType {
  readonly describe: string;
  readonly optional: boolean;
  readonly wire: WireShape;
  check(value: unknown, path: string): unknown;
  toWire(value: never): unknown;
}

export type Infer<F> = F extends FieldType<infer T> ? T : never;

/**
 * A field that failed its check. The path is assembled on the way up (each enclosing record or
 * list prefixes its part), so a body that passes its checks never builds a path string.
 */
export class FieldError extends ProtocolError {
  constructor(
    private path: string,
    private readonly expected: string,
  ) {
    super(ErrorCode.badBody, `body field ${path}: expected ${expected}`);
  }

  within(prefix: string): this {
    this.path = this.path.startsWith('[') ? `${prefix}${this.path}` : `${prefix}.${this.path}`;
    this.message = `body field ${this.path}: expected ${this.expected}`;
    return this;
  }
}

function fail(path: string, expected: string): never {
  throw new FieldError(path, expected);
}

function nest(error: unknown, prefix: string): unknown {
  return error instanceof FieldError ? error.within(prefix) : error;
}

function required<T>(describe: string, wire: WireShape, check: (value: unknown, path: string) => T, toWire: (v: T) => unknown = (v) => v): FieldType<T> {
  return { describe, optional: false, wire, check, toWire };
}

/** Unsigned integer below 2^53: positive fixint, uint8/16/32/64 on the wire. */
export const uint: FieldType<number> = required('uint', { kind: 'uint' }, (value, path) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(path, 'uint < 2^53');
  return value;
});

export const bool: FieldType<boolean> = required('bool', { kind: 'bool' }, (value, path) => {
  if (typeof value !== 'boolean') fail(path, 'bool');
  return value;
});

/** UTF-8 string of `min` to `max` UTF-16 code units (JavaScript string length). */
export function str(max: number, min = 0): FieldType<string> {
  const describe = min > 0 ? `str ${min}..${max}` : `str ≤ ${max}`;
  return required(describe, { kind: 'str', maxUnits: max }, (value, path) => {
    if (typeof value !== 'string' || value.length > max || value.length < min) fail(path, describe);
    return value;
  });
}

/** Raw bytes of at most `max` length. */
export function bin(max: number): FieldType<Uint8Array> {
  const describe = `bin ≤ ${max}`;
  return required(describe, { kind: 'bin', max }, (value, path) => {
    if (!(value instanceof Uint8Array) || value.length > max) fail(path, describe);
    return value;
  });
}

export function list<T>(of: FieldType<T>, max: number): FieldType<T[]> {
  const describe = `array ≤ ${max} of ${of.describe}`;
  return required(
    describe,
    { kind: 'list', of: of.wire, max, describe },
    (value, path) => {
      if (!Array.isArray(value) || value.length > max) fail(path, describe);
      const out = new Array<T>(value.length);
      let i = 0;
      try {
        for (; i < value.length; i++) out[i] = of.check(value[i], '');
      } catch (error) {
        throw nest(nest(error, `[${i}]`), path);
      }
      return out;
    },
    (items) => items.map((item) => of.toWire(item)),
  );
}

/** A field that may be nil or missing at the end of the array; absent decodes to undefined. */
export function optional<T>(inner: FieldType<T>): FieldType<T | undefined> {
  return {
    describe: `${inner.describe} | nil`,
    optional: true,
    wire: { kind: 'optional', inner: inner.wire },
    check: (value, path) => (value === null || value === undefined ? undefined : inner.check(value, path)),
    toWire: (value) => (value === undefined ? null : inner.toWire(value)),
  };
}

export type Fields = Record<string, AnyFieldType>;

type OptionalKeys<F extends Fields> = { [K in keyof F]: undefined extends Infer<F[K]> ? K : never }[keyof F];
type RequiredKeys<F extends Fields> = Exclude<keyof F, OptionalKeys<F>>;

type Flatten<T> = { [K in keyof T]: T[K] };

export type RecordOf<F extends Fields> = Flatten<
  { -readonly [K in RequiredKeys<F>]: Infer<F[K]> } & { -readonly [K in OptionalKeys<F>]?: Exclude<Infer<F[K]>, undefined> }
>;

export interface RecordType<F extends Fields> extends FieldType<RecordOf<F>> {
  readonly fields: F;
  readonly names: readonly (keyof F & string)[];
}

/** A record type of any shape, for tables keyed by opcode. */
export interface AnyRecordType extends AnyFieldType {
  readonly fields: Fields;
  readonly names: readonly string[];
}

/**
 * A record encoded as a positional array. Decoders ignore elements past the last known field so
 * that a later protocol minor version can append fields without breaking older clients.
 */
export function record<F extends Fields>(fields: F): RecordType<F> {
  const names = Object.keys(fields) as (keyof F & string)[];
  const types = names.map((name) => fields[name] as unknown as FieldType<unknown>);
  const requiredCount = types.reduce((n, t, i) => (t.optional ? n : i + 1), 0);
  const describe = `array [${names.join(', ')}]`;
  const build = shapeOf(names);
  return {
    describe,
    optional: false,
    wire: { kind: 'record', fields: types.map((t) => t.wire), names, required: requiredCount, describe },
    fields,
    names,
    check(value, path) {
      if (!Array.isArray(value) || value.length < requiredCount) fail(path, `${describe} with at least ${requiredCount} elements`);
      const decoded = new Array<unknown>(types.length);
      let i = 0;
      try {
        for (; i < types.length; i++) decoded[i] = (types[i] as FieldType<unknown>).check(value[i], names[i] as string);
      } catch (error) {
        throw nest(error, path);
      }
      return build(decoded) as RecordOf<F>;
    },
    toWire(value) {
      const source = value as Record<string, unknown>;
      let length = types.length;
      while (length > requiredCount && source[names[length - 1] as string] === undefined) length--;
      const out = new Array<unknown>(length);
      for (let i = 0; i < length; i++) out[i] = (types[i] as FieldType<unknown>).toWire(source[names[i] as string]);
      return out;
    },
  };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A constructor of plain objects with the record's keys in a fixed order, so that every decoded
 * record of one type shares one hidden class (computed-key assignment is several times slower).
 * Absent optional fields are left out rather than set to undefined.
 */
function shapeOf(names: readonly string[]): (values: unknown[]) => Record<string, unknown> {
  for (const name of names) if (!IDENTIFIER.test(name)) throw new Error(`record field name "${name}" is not an identifier`);
  const body = names.map((name, i) => `if (v[${i}] !== undefined) o.${name} = v[${i}];`).join('\n');
  const assign = new Function('v', 'o', body) as (v: unknown[], o: Record<string, unknown>) => void;
  return (values) => {
    const out: Record<string, unknown> = {};
    assign(values, out);
    return out;
  };
}

/** The empty body: a zero-length msgpack array (0x90). */
export const empty = record({});
