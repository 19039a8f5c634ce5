// Runs in the client namespace: one HTTP GET every INTERVAL ms on a new connection (so IPVS schedules
// each), each line of output a JSON record { t: start (ms, this machine's clock), ms, port (the client's),
// body | err, and with an error `phase`: connect (no handshake: a SYN unanswered or refused) or response }.
// Requests start on the clock whatever is still in flight (at most MAX_IN_FLIGHT): a request stuck on a
// dead director (a SYN waiting for its 1 s retransmit) must not hide when the path came back.
// Usage: node probe.mjs URL INTERVAL_MS DURATION_MS [TIMEOUT_MS]. Stops at DURATION_MS or on SIGTERM.
import http from 'node:http';

const [url, interval = '50', duration = '60000', timeout = '1000'] = process.argv.slice(2);
const end = Date.now() + Number(duration);
let stop = false;
process.on('SIGTERM', () => (stop = true));

function once() {
  const t = Date.now();
  let port;
  let connected = false;
  return new Promise((resolve) => {
    const done = (rec) => {
      const phase = rec.err === undefined ? {} : { phase: connected ? 'response' : 'connect' };
      process.stdout.write(`${JSON.stringify({ t, ms: Date.now() - t, port, ...rec, ...phase })}\n`);
      resolve();
    };
    const req = http.get(url, { agent: false, timeout: Number(timeout) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d));
      res.on('end', () => done(res.statusCode === 200 ? { body: body.trim() } : { err: `HTTP ${res.statusCode}` }));
      res.on('error', (e) => done({ err: e.code ?? e.message }));
    });
    req.on('socket', (sock) =>
      sock.once('connect', () => {
        connected = true;
        port = sock.localPort;
      }),
    );
    // A handshake still under way has its port already (connect() bound it): which one tells of a reused port.
    req.on('timeout', () => {
      port ??= req.socket?.localPort;
      req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' }));
    });
    req.on('error', (e) => done({ err: e.code ?? e.message }));
  });
}

const MAX_IN_FLIGHT = 100;
let inFlight = 0;
const pending = new Set();
while (!stop && Date.now() < end) {
  const t = Date.now();
  if (inFlight < MAX_IN_FLIGHT) {
    inFlight += 1;
    const p = once().finally(() => {
      inFlight -= 1;
      pending.delete(p);
    });
    pending.add(p);
  }
  const wait = Number(interval) - (Date.now() - t);
  await new Promise((r) => setTimeout(r, Math.max(wait, 1)));
}
await Promise.all(pending);
