// Decoders: check that a value from outside (a request body, a peer's answer) has the shape the
// code expects, and give it that type. Each decoder knows what it expects in words, so a wrong
// value becomes a message a person can act on: `"hashes[2]" must be an entry hash, not "XYZ"`.
// Objects keep only the fields they name: whatever else came along never reaches the code.

/** A value that is not of the expected shape: where in it, and what was expected there. */
export class DecodeError extends Error {
  override name = 'DecodeError';

  constructor(readonly at: string, readonly expected: string, got: unknown) {
    super(`${at ? `"${at}"` : 'the value'} must be ${expected}, not ${preview(got)}`);
  }
}

/** Checks a value and returns it typed, or throws a DecodeError naming `at`. */
export interface Decoder<T> {
  (value: unknown, at?: string): T;
  /** What it expects, in words ("an entry hash"). */
  readonly expects: string;
}

/** The type a decoder gives. */
export type Decoded<D> = D extends Decoder<infer T> ? T : never;

/** A decoder from a test: `check` says whether the value is a T. */
export function decoder<T>(expects: string, check: (value: unknown) => value is T): Decoder<T>;
export function decoder<T>(expects: string, check: (value: unknown) => boolean): Decoder<T>;
export function decoder<T>(expects: string, check: (value: unknown) => boolean): Decoder<T> {
  return Object.assign((value: unknown, at = ''): T => {
    if (!check(value)) throw new DecodeError(at, expects, value);
    return value as T;
  }, { expects });
}

/** A string of 1 to `max` characters, matching `pattern` when given. */
export function text(options: { max?: number; pattern?: RegExp; expects?: string; allowEmpty?: boolean } = {}): Decoder<string> {
  const max = options.max ?? 4096;
  const min = options.allowEmpty ? 0 : 1;
  return decoder(options.expects ?? `a string of ${min === 0 ? 'up to' : '1 to'} ${max} characters`,
    (value) => typeof value === 'string' && value.length >= min && value.length <= max && (!options.pattern || options.pattern.test(value)));
}

/** A whole number from `min` to `max` (safe integers only). */
export function integer(options: { min?: number; max?: number; expects?: string } = {}): Decoder<number> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return decoder(options.expects ?? `a whole number from ${min} to ${max}`, (value) => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max);
}

/** A whole number of 0 or more: a size, a count, an offset. */
export const count: Decoder<number> = integer({ min: 0, expects: 'a whole number, 0 or more' });

/** A finite number from `min` to `max`. */
export function number(options: { min?: number; max?: number; expects?: string } = {}): Decoder<number> {
  const min = options.min ?? -Infinity;
  const max = options.max ?? Infinity;
  return decoder(options.expects ?? 'a number', (value) => typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max);
}

export const boolean: Decoder<boolean> = decoder('true or false', (value) => typeof value === 'boolean');

/** Anything at all (a payload passed on as it is). */
export const unknownValue: Decoder<unknown> = decoder('any value', () => true);

/** One of these exact values. */
export function oneOf<const T extends readonly (string | number | boolean | null)[]>(...values: T): Decoder<T[number]> {
  return decoder(values.map((value) => JSON.stringify(value)).join(' or '), (value) => values.includes(value as T[number]));
}

/** `inner`, or null. */
export function nullable<T>(inner: Decoder<T>): Decoder<T | null> {
  const expects = `${inner.expects}, or null`;
  return Object.assign((value: unknown, at = '') => {
    if (value === null) return null;
    try {
      return inner(value, at);
    } catch (error) {
      // Wrong here (not deeper inside): say that null would do too.
      if (error instanceof DecodeError && error.at === at) throw new DecodeError(at, expects, value);
      throw error;
    }
  }, { expects });
}

/** A list of at most `max` values, each checked by `item`. */
export function arrayOf<T>(item: Decoder<T>, options: { max?: number; expects?: string } = {}): Decoder<T[]> {
  const max = options.max ?? 100_000;
  const expects = options.expects ?? `a list of at most ${max} items, each ${item.expects}`;
  return Object.assign((value: unknown, at = ''): T[] => {
    if (!Array.isArray(value) || value.length > max) throw new DecodeError(at, expects, value);
    return value.map((element, index) => item(element, `${at}[${index}]`));
  }, { expects });
}

/** An object with string keys and values checked by `value` (at most `max` keys). */
export function recordOf<T>(value: Decoder<T>, options: { max?: number } = {}): Decoder<Record<string, T>> {
  const max = options.max ?? 10_000;
  const expects = `an object of at most ${max} fields, each ${value.expects}`;
  return Object.assign((input: unknown, at = ''): Record<string, T> => {
    if (!isPlainObject(input) || Object.keys(input).length > max) throw new DecodeError(at, expects, input);
    const out: Record<string, T> = {};
    for (const [key, field] of Object.entries(input)) out[key] = value(field, join(at, key));
    return out;
  }, { expects });
}

/** Marks a field of `object()` that may be left out (or sent as undefined). */
export interface Optional<T> {
  optional: Decoder<T>;
}

/** A field that may be absent. */
export function optional<T>(inner: Decoder<T>): Optional<T> {
  return { optional: inner };
}

type Shape = Record<string, Decoder<unknown> | Optional<unknown>>;
type Required<S extends Shape> = { [K in keyof S as S[K] extends Decoder<unknown> ? K : never]: S[K] extends Decoder<infer T> ? T : never };
type Maybe<S extends Shape> = { [K in keyof S as S[K] extends Optional<unknown> ? K : never]?: S[K] extends Optional<infer T> ? T : never };
/** The type an object shape gives. */
export type ShapeOf<S extends Shape> = Required<S> & Maybe<S> extends infer O ? { [K in keyof O]: O[K] } : never;

/** An object with these fields (others are dropped); `expects` names it in messages. */
export function object<S extends Shape>(shape: S, expects = 'an object'): Decoder<ShapeOf<S>> {
  return Object.assign((value: unknown, at = ''): ShapeOf<S> => {
    if (!isPlainObject(value)) throw new DecodeError(at, expects, value);
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(shape)) {
      const given = Object.hasOwn(value, key) ? value[key] : undefined;
      if ('optional' in field) {
        if (given !== undefined) out[key] = field.optional(given, join(at, key));
      } else {
        out[key] = field(given, join(at, key));
      }
    }
    return out as ShapeOf<S>;
  }, { expects });
}

/** Decode `value`, or undefined when it is not of the shape (for "is this one of ours?" questions). */
export function tryDecode<T>(decode: Decoder<T>, value: unknown): T | undefined {
  try {
    return decode(value);
  } catch (error) {
    if (error instanceof DecodeError) return undefined;
    throw error;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(at: string, key: string): string {
  return at ? `${at}.${key}` : key;
}

function preview(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
}
