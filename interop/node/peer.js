// peer.js runs the npm package ws as a peer of the Starling interop matrix.
// It speaks the line protocol of interop/internal/peer.Process: it prints
// {"event":"listening","port":N} once its server listens, reads
// {"cmd":"connect",...} commands on stdin, and prints every event as one
// JSON line on stdout. It exits when stdin closes.
'use strict';

const fs = require('node:fs');
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

function run(ws, mode, id, header, extensions) {
  emit({ id, event: 'open', subprotocol: ws.protocol, header, extensions });
  ws.on('pong', (data) => emit({ id, event: 'pong', data: data.toString('utf8') }));
  ws.on('close', (code, reason) => emit({ id, event: 'close', code, reason: reason.toString('utf8') }));
  ws.on('error', (err) => process.stderr.write(`${id}: ${err.message}\n`));
  ws.on('message', (data, isBinary) => {
    if (mode !== 'close') ws.send(data, { binary: isBinary });
  });
  switch (mode) {
    case 'drop':
      ws.terminate();
      break;
    case 'close':
      ws.close(4001, 'bye');
      break;
    case 'ping':
      ws.ping('peer-ping');
      break;
    case 'fragments':
      sendFragments(ws, [FRAGMENTED_TEXT.subarray(0, 3), FRAGMENTED_TEXT.subarray(3, 13), FRAGMENTED_TEXT.subarray(13)], false);
      sendFragments(ws, FRAGMENTED_BINARY, true);
      break;
  }
}

// With STARLING_TLS_CERT and STARLING_TLS_KEY (PEM files) the server speaks
// wss; the client trusts the CA in NODE_EXTRA_CA_CERTS, set by the test.
const tls = process.env.STARLING_TLS_CERT
  ? https.createServer({ cert: fs.readFileSync(process.env.STARLING_TLS_CERT), key: fs.readFileSync(process.env.STARLING_TLS_KEY) })
  : null;

const server = new WebSocketServer({
  ...(tls ? { server: tls } : { host: '127.0.0.1', port: 0 }),
  maxPayload: MAX_PAYLOAD,
  perMessageDeflate: true,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

server.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://localhost');
  run(ws, url.pathname.slice(1), url.searchParams.get('id'), req.headers[HEADER] || '', '');
});

if (tls) {
  tls.listen(0, '127.0.0.1', () => emit({ event: 'listening', port: tls.address().port, tls: true }));
} else {
  server.on('listening', () => emit({ event: 'listening', port: server.address().port }));
}

function connect(cmd) {
  const ws = new WebSocket(cmd.url, OFFERED, {
    headers: { 'X-Starling-Test': cmd.id },
    maxPayload: MAX_PAYLOAD,
    perMessageDeflate: true,
  });
  let opened = false;
  let extensions = '';
  ws.on('upgrade', (res) => {
    extensions = res.headers['sec-websocket-extensions'] || '';
  });
  ws.on('open', () => {
    opened = true;
    run(ws, cmd.mode, cmd.id, '', extensions);
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
