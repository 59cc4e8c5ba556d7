// peer.js runs the npm package ws as a peer of the Starling interop matrix.
// It speaks the line protocol of interop/internal/peer.Process: it prints
// {"event":"listening","port":N} once its server listens, reads
// {"cmd":"connect",...} commands on stdin, and prints every event as one
// JSON line on stdout. It exits when stdin closes.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const readline = require('node:readline');
const { WebSocket, WebSocketServer } = require('ws');

const MAX_PAYLOAD = 64 << 20;
const SUBPROTOCOL = 'chat.v1';
const OFFERED = ['bogus.v9', SUBPROTOCOL];
const HEADER = 'x-starling-test';
const FRAGMENTED_TEXT = Buffer.from('frag-α|frag-β|frag-γ', 'utf8');
const FRAGMENTED_BINARY = [Buffer.from([0, 1, 2]), Buffer.from([3, 4, 5, 6]), Buffer.from([0xff, 0xfe])];

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// sendFragments sends parts as one message of several frames; the text
// split at bytes 3 and 13 falls inside "β".
function sendFragments(ws, parts, binary) {
  parts.forEach((part, i) => ws.send(part, { binary, fin: i === parts.length - 1 }));
}

// thirds splits data into three frames' payloads, wherever the bytes fall
// (inside a rune for text, which the receiver must reassemble first).
function thirds(data) {
  const k = Math.ceil(data.length / 3);
  return [data.subarray(0, k), data.subarray(k, 2 * k), data.subarray(2 * k)];
}

// deflateOptions returns ws's perMessageDeflate option for a connection
// whose URL carries the query parameter deflate, a JSON object of RFC 7692
// parameter names (true or a number of window bits) plus "threshold", or
// false to turn compression off; without it, ws's defaults (true).
function deflateOptions(url) {
  const spec = new URL(url, 'http://localhost').searchParams.get('deflate');
  if (spec === null) return true;
  const d = JSON.parse(spec);
  if (d === false) return false;
  const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [camel(k), v]));
}

// blastMessage returns message i of mode blast: byte j is (31j + i) mod 256.
function blastMessage(i, size) {
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = (31 * j + i) & 0xff;
  return b;
}

// run drives connection ws in the mode named by its URL's path; query is
// that URL's search parameters, which some modes read.
function run(ws, mode, id, query, header, extensions) {
  emit({ id, event: 'open', subprotocol: ws.protocol, header, extensions });
  ws.on('pong', (data) => emit({ id, event: 'pong', data: data.toString('utf8') }));
  ws.on('close', (code, reason) => emit({ id, event: 'close', code, reason: reason.toString('utf8') }));
  ws.on('error', (err) => process.stderr.write(`${id}: ${err.message}\n`));
  ws.on('message', (data, isBinary) => {
    if (mode === 'fragecho') sendFragments(ws, thirds(data), isBinary);
    else if (mode !== 'close' && mode !== 'sink') ws.send(data, { binary: isBinary });
  });
  switch (mode) {
    case 'drop':
      ws.terminate();
      break;
    case 'close':
      ws.close(Number(query.get('code') || 4001), query.get('reason') ?? 'bye');
      break;
    case 'ping':
      ws.ping(query.get('payload') ?? 'peer-ping');
      break;
    case 'fragments':
      sendFragments(ws, [FRAGMENTED_TEXT.subarray(0, 3), FRAGMENTED_TEXT.subarray(3, 13), FRAGMENTED_TEXT.subarray(13)], false);
      sendFragments(ws, FRAGMENTED_BINARY, true);
      break;
    case 'fragping':
      // A ping between the frames of a message (RFC 6455 section 5.4).
      ws.send(FRAGMENTED_TEXT.subarray(0, 3), { binary: false, fin: false });
      ws.ping('mid-message');
      ws.send(FRAGMENTED_TEXT.subarray(3), { binary: false, fin: true });
      break;
    case 'pong':
      // An unsolicited pong, a heartbeat (RFC 6455 section 5.5.3).
      ws.pong('unsolicited');
      break;
    case 'blast':
      for (let i = 0; i < Number(query.get('count')); i++) ws.send(blastMessage(i, Number(query.get('size'))));
      break;
  }
}

// With STARLING_TLS_CERT and STARLING_TLS_KEY (PEM files) the server speaks
// wss; the client trusts the CA in NODE_EXTRA_CA_CERTS, set by the test.
const tls = process.env.STARLING_TLS_CERT
  ? https.createServer({ cert: fs.readFileSync(process.env.STARLING_TLS_CERT), key: fs.readFileSync(process.env.STARLING_TLS_KEY) })
  : null;

// Each deflate configuration asked for gets a WebSocketServer of its own
// on the one HTTP server, since ws sets perMessageDeflate per server.
const servers = new Map();
function serverFor(deflate) {
  const key = JSON.stringify(deflate);
  if (!servers.has(key)) {
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_PAYLOAD,
      perMessageDeflate: deflate,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    wss.on('connection', (ws, req) => {
      const url = new URL(req.url, 'http://localhost');
      run(ws, url.pathname.slice(1), url.searchParams.get('id'), url.searchParams, req.headers[HEADER] || '', '');
    });
    servers.set(key, wss);
  }
  return servers.get(key);
}

const httpServer = tls || http.createServer();
httpServer.on('upgrade', (req, socket, head) => {
  const wss = serverFor(deflateOptions(req.url));
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
httpServer.listen(0, '127.0.0.1', () => emit({ event: 'listening', port: httpServer.address().port, tls: !!tls }));

function connect(cmd) {
  const ws = new WebSocket(cmd.url, OFFERED, {
    headers: { 'X-Starling-Test': cmd.id },
    maxPayload: MAX_PAYLOAD,
    perMessageDeflate: deflateOptions(cmd.url),
  });
  let opened = false;
  let extensions = '';
  ws.on('upgrade', (res) => {
    extensions = res.headers['sec-websocket-extensions'] || '';
  });
  ws.on('open', () => {
    opened = true;
    run(ws, cmd.mode, cmd.id, new URL(cmd.url).searchParams, '', extensions);
  });
  ws.on('error', (err) => {
    if (!opened) emit({ id: cmd.id, event: 'error', reason: err.message });
  });
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.cmd === 'connect') connect(cmd);
  else emit({ id: cmd.id || '', event: 'error', reason: `unknown command ${cmd.cmd}` });
});
rl.on('close', () => process.exit(0));
