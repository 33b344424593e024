// Type and range checks for one value of a parsed OpenAI request body. Every failure is a
// SWY_ERR_INPUT_INVALID_FIELD (400) whose message starts with the value's path
// (`messages[2].content[0].type`) and whose `param` is that same path.
import { SwitchyardError } from '../../core/errors.js';

export type JsonObject = Record<string, unknown>;

export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  /** `min` itself is out of range (repetition_penalty > 0). */
  readonly minExclusive?: boolean;
}

export function invalidField(param: string, problem: string): never {
  throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', `'${param}' ${problem}`, { param });
}

/**
 * An own property of a parsed JSON object (never one inherited from Object.prototype, so a
 * missing `constructor` stays missing). null counts as absent: OpenAI's optional fields are nullable.
 */
export function optionalField(obj: JsonObject, key: string): unknown {
  if (!Object.hasOwn(obj, key)) return undefined;
  const value = obj[key];
  return value === null ? undefined : value;
}

export function requiredField(obj: JsonObject, key: string, param: string): unknown {
  const value = optionalField(obj, key);
  if (value === undefined) invalidField(param, 'is required');
  return value;
}

/** What a JSON value is, for "expected X, got Y" messages; never echoes client strings. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': return 'a string';
    case 'boolean': return String(value);
    case 'number': return String(value);
    case 'object': return 'an object';
    default: return typeof value;
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function expectObject(value: unknown, param: string): JsonObject {
  if (!isJsonObject(value)) invalidField(param, `must be an object, got ${describeJson(value)}`);
  return value;
}

export function expectArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) invalidField(param, `must be an array, got ${describeJson(value)}`);
  return value;
}

export function expectString(value: unknown, param: string): string {
  if (typeof value !== 'string') invalidField(param, `must be a string, got ${describeJson(value)}`);
  return value;
}

export function expectBoolean(value: unknown, param: string): boolean {
  if (typeof value !== 'boolean') invalidField(param, `must be a boolean, got ${describeJson(value)}`);
  return value;
}

export function expectNumber(value: unknown, param: string, range: NumberRange = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) invalidField(param, `must be a number, got ${describeJson(value)}`);
  checkRange(value, param, range);
  return value;
}

/** An integer within the safe range (JSON numbers beyond it have already lost precision). */
export function expectInteger(value: unknown, param: string, range: NumberRange = {}): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) invalidField(param, `must be an integer, got ${describeJson(value)}`);
  if (!Number.isSafeInteger(value)) checkRange(value, param, { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  checkRange(value, param, range);
  return value;
}

function checkRange(value: number, param: string, { min, max, minExclusive = false }: NumberRange): void {
  const belowMin = min !== undefined && (minExclusive ? value <= min : value < min);
  const aboveMax = max !== undefined && value > max;
  if (!belowMin && !aboveMax) return;
  if (min !== undefined && max !== undefined && !minExclusive) invalidField(param, `must be between ${min} and ${max}, got ${value}`);
  if (belowMin) invalidField(param, `must be ${minExclusive ? 'greater than' : 'at least'} ${min}, got ${value}`);
  invalidField(param, `must be at most ${max}, got ${value}`);
}
