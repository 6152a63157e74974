// Third-party WebSocket client (npm `ws`) for test_ws.sh.
//
//   node ws_client.js SCENARIO URL [ARGS...]
//
// Prints one result line per step ("key: value"); exits non-zero on an
// unexpected error.  Scenarios:
//   calls    subprotocol json-rpc; RPC.Ping, Sys.GetInfo, RPC.List one
//            after another, then three pipelined calls; a ping; close.
//   big N    FS.Put of N random bytes (one text message), FS.Get back.
//   badutf8  a text message that is not UTF-8; prints the close code.
//   upgrade  only the handshake; prints the HTTP status and body on
//            refusal, "open" on success.
'use strict';
const WebSocket = require('ws');
const crypto = require('crypto');

const [scenario, url, ...args] = process.argv.slice(2);
const out = (k, v) => console.log(`${k}: ${v}`);

function open(protocols) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        const e = new Error('unexpected response');
        e.status = res.statusCode;
        e.body = body;
        reject(e);
      });
    });
  });
}

// Sends frames and resolves with the replies keyed by id.
function call(ws, frames) {
  return new Promise((resolve, reject) => {
    const want = new Set(frames.map((f) => f.id));
    const got = {};
    const onMsg = (data, isBinary) => {
      if (isBinary) return reject(new Error('binary reply'));
      const j = JSON.parse(data.toString('utf8'));
      got[j.id] = j;
      want.delete(j.id);
      if (want.size === 0) {
        ws.off('message', onMsg);
        resolve(got);
      }
    };
    ws.on('message', onMsg);
    for (const f of frames) ws.send(JSON.stringify(f));
  });
}

const closed = (ws) =>
  new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve([code, reason.toString()])));

async function calls() {
  const ws = await open(['json-rpc']);
  out('protocol', ws.protocol);
  let r = await call(ws, [{ id: 1, src: 'node', method: 'RPC.Ping' }]);
  out('ping', JSON.stringify(r[1]));
  r = await call(ws, [{ id: 2, method: 'Sys.GetInfo' }]);
  out('info.id', r[2].result.id);
  out('info.ram_size', r[2].result.ram_size);
  r = await call(ws, [{ id: 'three', method: 'RPC.List' }]);
  out('list.has_ping', r.three.result.includes('RPC.Ping'));
  r = await call(ws, [
    { id: 10, method: 'RPC.Ping' },
    { id: 11, method: 'Foo.Bar' },
    { id: 12, method: 'FS.List' },
  ]);
  out('pipelined', [10, 11, 12].map((i) => r[i].id).join(','));
  out('pipelined.error', JSON.stringify(r[11].error));
  out('pipelined.fs', r[12].result.includes('index.html'));
  const pong = new Promise((resolve) => ws.once('pong', (d) => resolve(d)));
  ws.ping(Buffer.from('hello'));
  out('pong', (await pong).toString());
  // The connection still works after the control frame.
  r = await call(ws, [{ id: 13, method: 'RPC.Ping' }]);
  out('after_pong', 'result' in r[13]);
  const c = closed(ws);
  ws.close(1000, 'bye');
  const [code] = await c;
  out('close', code);
}

async function big(n) {
  const ws = await open(['json-rpc']);
  const data = crypto.randomBytes(n);
  const put = {
    id: 1,
    method: 'FS.Put',
    params: { filename: 'big.bin', offset: 0, data: data.toString('base64') },
  };
  out('message_bytes', Buffer.byteLength(JSON.stringify(put)));
  let r = await call(ws, [put]);
  out('put', JSON.stringify(r[1].error || r[1].result));
  // The device may return less than asked (it bounds its reply size);
  // `left` says how much remains.
  const parts = [];
  let off = 0;
  for (let id = 2; id < 100; id++) {
    r = await call(ws, [{ id, method: 'FS.Get',
      params: { filename: 'big.bin', offset: off, len: n - off } }]);
    const chunk = Buffer.from(r[id].result.data, 'base64');
    parts.push(chunk);
    off += chunk.length;
    if (r[id].result.left === 0 || chunk.length === 0) break;
  }
  const back = Buffer.concat(parts);
  out('get', back.equals(data) ? 'same' : `differs (${back.length} bytes)`);
  const c = closed(ws);
  ws.close(1000);
  out('close', (await c)[0]);
}

async function badutf8() {
  const ws = await open(['json-rpc']);
  const c = closed(ws);
  // ws sends a Buffer as a text frame unchanged when binary is false.
  ws.send(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]),
    { binary: false });
  const timer = setTimeout(() => {
    out('close', 'none');
    process.exit(1);
  }, 5000);
  const [code] = await c;
  clearTimeout(timer);
  out('close', code);
}

async function upgrade() {
  try {
    const ws = await open(['json-rpc']);
    out('upgrade', 'open');
    ws.close(1000);
  } catch (e) {
    if (e.status === undefined) throw e;
    out('upgrade', `${e.status} ${e.body.trim()}`);
  }
}

const scenarios = { calls, big, badutf8, upgrade };
if (!scenarios[scenario]) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
scenarios[scenario](...args.map(Number)).then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
