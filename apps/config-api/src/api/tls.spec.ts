import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { FailureLimiter, TokenVerifier, hashToken } from '../auth/tokens.js';
import { DesiredService } from '../state/desired-service.js';
import { MemoryDesiredRepo } from '../state/memory-repo.js';
import { buildApp } from './app.js';

// TLS is optional: with a certificate and key the API speaks HTTPS only.

const dir = mkdtempSync(join(tmpdir(), 'config-api-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS', () => {
  it('serves HTTPS with the configured certificate', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const cert = readFileSync(join(dir, 'cert.pem'));
    const app = await buildApp({
      desired: new DesiredService(new MemoryDesiredRepo()),
      tokens: new TokenVerifier([{ name: 'r', role: 'reader', hash: await hashToken('tls-reader-token', { N: 1024, r: 8, p: 1 }) }]),
      limiter: new FailureLimiter(),
      logger: pino({ level: 'silent' }),
      docs: false,
      https: { cert, key: readFileSync(join(dir, 'key.pem')) },
    });
    const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    try {
      expect(url.protocol).toBe('https:');
      const body = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: url.port, path: '/v1/hosts', ca: cert, headers: { authorization: 'Bearer tls-reader-token' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      expect(JSON.parse(body)).toEqual({ generation: 0, items: [] });
      await expect(fetch(`http://127.0.0.1:${url.port}/v1/hosts`)).rejects.toThrow();
    } finally {
      await app.close();
    }
  });
});
