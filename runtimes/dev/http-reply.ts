// A whole response in one call, as both plain node:http ports (control and OpenAI) answer: an
// empty body is `content-length: 0` with no content type, any other body carries its content type
// and exact length. A response already gone (client away) or already started is left alone, so a
// late answer never throws ERR_HTTP_HEADERS_SENT.
import type { ServerResponse } from 'node:http';

export function reply(res: ServerResponse, status: number, body = '', contentType = 'application/json'): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, body === '' ? { 'content-length': 0 } : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export const replyJson = (res: ServerResponse, status: number, value: unknown): void => reply(res, status, JSON.stringify(value));
