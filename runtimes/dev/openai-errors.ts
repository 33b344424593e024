// The OpenAI port's one error type and vLLM's envelope for it:
// {"error":{"message","type","param","code"}}, where code is the HTTP status as an integer and type
// is named after the status (BadRequestError, NotFoundError, InternalServerError, …), plus how the
// engine's RuntimeErrors (gRPC codes) map onto it.
import { status as grpcStatus } from '@grpc/grpc-js';
import { asRuntimeError } from './runtime-error.js';

const TYPES: Readonly<Record<number, string>> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  405: 'MethodNotAllowedError',
  413: 'PayloadTooLargeError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

export class OpenAiError extends Error {
  override name = 'OpenAiError';
  readonly status: number;
  readonly param: string | null;

  constructor(status: number, message: string, param: string | null = null) {
    super(message);
    this.status = status;
    this.param = param;
  }

  get type(): string {
    return TYPES[this.status] ?? (this.status >= 500 ? 'InternalServerError' : 'BadRequestError');
  }

  toBody(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

export const badRequest = (message: string, param: string | null = null): OpenAiError => new OpenAiError(400, message, param);

export const modelNotFound = (model: string): OpenAiError => new OpenAiError(404, `The model \`${model}\` does not exist.`, 'model');

/** Anything the engine or the model threw, as the status vLLM would answer with. */
export function asOpenAiError(err: unknown): OpenAiError {
  if (err instanceof OpenAiError) return err;
  const runtime = asRuntimeError(err, 'backend');
  switch (runtime.code) {
    case grpcStatus.INVALID_ARGUMENT:
      return new OpenAiError(400, runtime.message);
    case grpcStatus.NOT_FOUND:
      return new OpenAiError(404, runtime.message);
    case grpcStatus.UNAVAILABLE:
      return new OpenAiError(503, runtime.message);
    default:
      return new OpenAiError(500, runtime.message);
  }
}
