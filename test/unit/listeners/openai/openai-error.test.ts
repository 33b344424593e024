import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  APIError, AuthenticationError, BadRequestError, ConflictError, InternalServerError, NotFoundError, PermissionDeniedError, RateLimitError,
} from 'openai';
import { CANONICAL_CODES, ERROR_CATALOGUE, SwitchyardError, type CanonicalCode, type ErrorCode } from '../../../../router/core/errors.js';
import { openAiError } from '../../../../router/listeners/openai/openai-error.js';
import { parseChatRequest } from '../../../../router/listeners/openai/chat-request.js';

// Written out rather than imported, so the test states the contract instead of repeating the code.
const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
  499: 'invalid_request_error',
  500: 'server_error',
  501: 'invalid_request_error',
  502: 'server_error',
  503: 'server_error',
  504: 'server_error',
};

test('every catalogue code maps to its catalogue status, an OpenAI type, its param, its code and Retry-After', () => {
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    const err = new SwitchyardError(code, `message for ${code}`, { param: 'temperature', retryAfterS: 2 });
    const mapped = openAiError(err);
    assert.equal(mapped.status, err.httpStatus, code);
    assert.deepEqual(mapped.headers, { 'retry-after': '2' }, code);
    const expectedType = TYPE_BY_STATUS[err.httpStatus];
    assert.ok(expectedType !== undefined, `${code}: status ${err.httpStatus} is missing from this test's table`);
    const internal = code === 'SWY_ERR_INTERNAL';
    assert.deepEqual(mapped.body, {
      error: {
        message: internal ? 'internal error' : `message for ${code}`,
        type: expectedType,
        param: internal ? null : 'temperature',
        code,
      },
    }, code);
  }
});

test('an upstream rejection keeps the upstream status, and every canonical status gets a type', () => {
  for (const canonical of Object.keys(CANONICAL_CODES) as CanonicalCode[]) {
    if (canonical === 'OK') continue; // not an error status
    const err = new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', 'upstream said no', { canonical });
    const mapped = openAiError(err);
    assert.equal(mapped.status, err.httpStatus, canonical);
    assert.equal(mapped.body.error.type, TYPE_BY_STATUS[err.httpStatus], canonical);
    assert.equal(mapped.body.error.message, 'upstream said no');
    assert.equal(mapped.body.error.code, 'SWY_ERR_UPSTREAM_REJECTED');
  }
  const type = (canonical: CanonicalCode): string => openAiError(new SwitchyardError('SWY_ERR_UPSTREAM_REJECTED', 'x', { canonical })).body.error.type;
  assert.equal(type('UNAUTHENTICATED'), 'authentication_error');
  assert.equal(type('PERMISSION_DENIED'), 'permission_error');
  assert.equal(type('ABORTED'), 'conflict_error');
  assert.equal(type('RESOURCE_EXHAUSTED'), 'rate_limit_error');
  assert.equal(type('UNIMPLEMENTED'), 'invalid_request_error');
  assert.equal(type('DEADLINE_EXCEEDED'), 'server_error');
});

test('param is null when the error names no field, and there is no retry-after without a delay', () => {
  const mapped = openAiError(new SwitchyardError('SWY_ERR_ROUTE_MODEL_NOT_FOUND', "model 'x' is not served"));
  assert.deepEqual(mapped, {
    status: 404,
    headers: {},
    body: { error: { message: "model 'x' is not served", type: 'not_found_error', param: null, code: 'SWY_ERR_ROUTE_MODEL_NOT_FOUND' } },
  });
});

test('internal errors hide their message and param', () => {
  const mapped = openAiError(new SwitchyardError('SWY_ERR_INTERNAL', 'secret detail at /srv/x.ts:12', { param: 'messages' }));
  assert.deepEqual(mapped.body.error, { message: 'internal error', type: 'server_error', param: null, code: 'SWY_ERR_INTERNAL' });
});

test('a parse error reaches the client as an OpenAI error naming the field', () => {
  let caught: unknown;
  try {
    parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 3 }, { defaultMaxTokens: 16, maxTokens: 64, maxMessages: 8, maxPromptChars: 100 });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SwitchyardError);
  assert.deepEqual(openAiError(caught), {
    status: 400,
    headers: {},
    body: { error: { message: "'temperature' must be between 0 and 2, got 3", type: 'invalid_request_error', param: 'temperature', code: 'SWY_ERR_INPUT_INVALID_FIELD' } },
  });
});

test('the openai SDK raises the matching error class and reads message, type, param and code', () => {
  const cases: Array<[ErrorCode, CanonicalCode | undefined, new (...args: never[]) => APIError]> = [
    ['SWY_ERR_INPUT_INVALID_FIELD', undefined, BadRequestError],
    ['SWY_ERR_UPSTREAM_REJECTED', 'UNAUTHENTICATED', AuthenticationError],
    ['SWY_ERR_UPSTREAM_REJECTED', 'PERMISSION_DENIED', PermissionDeniedError],
    ['SWY_ERR_ROUTE_MODEL_NOT_FOUND', undefined, NotFoundError],
    ['SWY_ERR_UPSTREAM_REJECTED', 'ABORTED', ConflictError],
    ['SWY_ERR_UPSTREAM_REJECTED', 'RESOURCE_EXHAUSTED', RateLimitError],
    ['SWY_ERR_ADMIT_OVERLOADED', undefined, InternalServerError],
  ];
  for (const [code, canonical, errorClass] of cases) {
    const mapped = openAiError(new SwitchyardError(code, 'why', canonical === undefined ? { param: 'p' } : { param: 'p', canonical }));
    const sdkError = APIError.generate(mapped.status, mapped.body, undefined, new Headers(mapped.headers));
    assert.ok(sdkError instanceof errorClass, `${code} ${canonical ?? ''} → ${sdkError.constructor.name}`);
    assert.equal(sdkError.message, `${mapped.status} why`);
    assert.equal(sdkError.code, code);
    assert.equal(sdkError.param, 'p');
    assert.equal(sdkError.type, mapped.body.error.type);
  }
});
