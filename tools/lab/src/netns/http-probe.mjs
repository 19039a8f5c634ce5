// Sequential HTTP GETs, each on a new TCP connection, so that an IPVS scheduler sees every
// request as a new connection. Run with the host's node inside a namespace:
//   node http-probe.mjs <url> <count> <timeout-ms>
// Prints one JSON line: { "bodies": [...] } or { "error": "...", "bodies": [...] } (exit 1).
import http from 'node:http';

const [url, countArg = '1', timeoutArg = '5000'] = process.argv.slice(2);
const count = Number(countArg);
const timeout = Number(timeoutArg);

function get() {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' }, timeout }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}: ${body.trim()}`)),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
    req.on('error', reject);
  });
}

const bodies = [];
try {
  for (let i = 0; i < count; i++) bodies.push(await get());
  process.stdout.write(`${JSON.stringify({ bodies })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: `request ${bodies.length + 1} of ${count} to ${url}: ${err.message}`, bodies })}\n`);
  process.exitCode = 1;
}
