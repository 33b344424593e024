// The floor for any Node router: a node:http server that forwards every request with http.request
// through one keep-alive Agent (maxSockets Infinity), pipes the request body up and the response
// body down, and strips hop-by-hop headers. No parsing, no routing, no metrics.
//
//   node --import tsx loadtests/bench/bare-proxy.ts <listen-port|0> <upstream-host:port>
//
// Prints {"event":"ready","port":N} on stdout once it listens; SIGTERM/SIGINT close it.
import http from 'node:http';

const [listenArg = '0', upstreamArg = ''] = process.argv.slice(2);
const colon = upstreamArg.lastIndexOf(':');
if (colon <= 0) {
  process.stderr.write('usage: bare-proxy.ts <listen-port|0> <upstream-host:port>\n');
  process.exit(2);
}
const upstreamHost = upstreamArg.slice(0, colon);
const upstreamPort = Number(upstreamArg.slice(colon + 1));

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

function strip(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const key in headers) if (!HOP_BY_HOP.has(key)) out[key] = headers[key];
  return out;
}

const server = http.createServer((req, res) => {
  const headers = strip(req.headers);
  headers.host = upstreamArg;
  const up = http.request({ host: upstreamHost, port: upstreamPort, method: req.method, path: req.url, headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, strip(upRes.headers));
    upRes.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"bad gateway"}}');
  });
  // A client that goes away mid-stream cancels the upstream request, as a router should.
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(listenArg), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ event: 'ready', port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  agent.destroy();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
