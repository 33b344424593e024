// An OpenAI-speaking upstream names its own model in every answer. When a route maps the client's
// model to another upstream name, the relayed bytes get the client's name back: whole SSE events
// (or the one JSON body) are rewritten by exact string match, never parsed and re-serialised.
// Generated text cannot match by accident: inside a JSON string its quotes are escaped.
import { StringDecoder } from 'node:string_decoder';
import { Transform } from 'node:stream';

export function modelNameRewrite(upstreamModel: string, clientModel: string): Transform {
  const from = `"model":${JSON.stringify(upstreamModel)}`;
  const to = `"model":${JSON.stringify(clientModel)}`;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      pending += decoder.write(chunk);
      const cut = pending.lastIndexOf('\n\n');
      if (cut === -1) {
        done();
        return;
      }
      const ready = pending.slice(0, cut + 2);
      pending = pending.slice(cut + 2);
      done(null, ready.replaceAll(from, to));
    },
    flush(done) {
      done(null, (pending + decoder.end()).replaceAll(from, to));
    },
  });
}
