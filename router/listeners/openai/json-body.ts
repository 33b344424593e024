// Turns a raw OpenAI request body into the JSON object the request parsers read: malformed JSON is
// SWY_ERR_INPUT_MALFORMED_BODY, valid JSON that is not an object is SWY_ERR_INPUT_INVALID_FIELD.
import { SwitchyardError } from '../../core/errors.js';
import { describeJson, isJsonObject, type JsonObject } from './field-checks.js';

export function parseJsonObject(body: Buffer | undefined): JsonObject {
  if (body === undefined || body.length === 0) {
    throw new SwitchyardError('SWY_ERR_INPUT_MALFORMED_BODY', 'request body is empty; expected a JSON object');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new SwitchyardError('SWY_ERR_INPUT_MALFORMED_BODY', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(doc)) {
    throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', `request body must be a JSON object, got ${describeJson(doc)}`);
  }
  return doc;
}
