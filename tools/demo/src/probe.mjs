// Runs in the client namespace: one HTTP GET every INTERVAL ms on a new connection (so IPVS schedules
// each), each line of output a JSON record { t: start (ms, this machine's clock), ms, body | err }.
// Usage: node probe.mjs URL INTERVAL_MS DURATION_MS [TIMEOUT_MS]. Stops at DURATION_MS or on SIGTERM.
import http from 'node:http';

const [url, interval = '50', duration = '60000', timeout = '1000'] = process.argv.slice(2);
const end = Date.now() + Number(duration);
let stop = false;
process.on('SIGTERM', () => (stop = true));

function once() {
  const t = Date.now();
  return new Promise((resolve) => {
    const done = (rec) => {
      process.stdout.write(`${JSON.stringify({ t, ms: Date.now() - t, ...rec })}\n`);
      resolve();
    };
    const req = http.get(url, { agent: false, timeout: Number(timeout) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d));
      res.on('end', () => done(res.statusCode === 200 ? { body: body.trim() } : { err: `HTTP ${res.statusCode}` }));
      res.on('error', (e) => done({ err: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => done({ err: e.code ?? e.message }));
  });
}

while (!stop && Date.now() < end) {
  const t = Date.now();
  await once();
  const wait = Number(interval) - (Date.now() - t);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
