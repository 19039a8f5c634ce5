import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCerts {
  /** The test CA's certificate (PEM file). */
  ca: string;
  /** Signed by the CA, valid now, for www.fulcrum.test and 127.0.0.1. */
  valid: { cert: string; key: string };
  /** Signed by the CA, for the same names, expired in 2020. */
  expired: { cert: string; key: string };
  /** Self-signed, for the same names: trusted by nobody. */
  selfSigned: { cert: string; key: string };
}

export const CERT_NAME = 'www.fulcrum.test';
const SAN = `subjectAltName=DNS:${CERT_NAME},IP:127.0.0.1`;
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

const openssl = (dir: string, args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
};

/**
 * A private CA and three server certificates made with Debian's openssl in `dir`. The expired
 * one is issued with `openssl ca -startdate/-enddate`, since `x509 -days` cannot date backwards.
 */
export function makeTestCerts(dir: string): TestCerts {
  const p = (name: string) => join(dir, name);
  writeFileSync(
    p('ca.cnf'),
    [
      '[ca]',
      'default_ca = local',
      '[local]',
      `database = ${p('index.txt')}`,
      `new_certs_dir = ${dir}`,
      `serial = ${p('serial')}`,
      'default_md = sha256',
      'policy = any',
      'copy_extensions = copy',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  writeFileSync(p('index.txt'), '');
  writeFileSync(p('serial'), '1000\n');
  openssl(dir, ['req', '-x509', ...EC, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '30', '-subj', '/CN=Fulcrum test CA']);
  const signed = (name: string, dates: string[]) => {
    openssl(dir, ['req', ...EC, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${CERT_NAME}`, '-addext', SAN]);
    openssl(dir, ['ca', '-batch', '-config', p('ca.cnf'), '-cert', p('ca.pem'), '-keyfile', p('ca.key'), '-in', p(`${name}.csr`), '-out', p(`${name}.pem`), ...dates]);
    return { cert: p(`${name}.pem`), key: p(`${name}.key`) };
  };
  const valid = signed('valid', ['-days', '30']);
  const expired = signed('expired', ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']);
  openssl(dir, ['req', '-x509', ...EC, '-keyout', p('self.key'), '-out', p('self.pem'), '-days', '30', '-subj', `/CN=${CERT_NAME}`, '-addext', SAN]);
  return { ca: p('ca.pem'), valid, expired, selfSigned: { cert: p('self.pem'), key: p('self.key') } };
}
