import { connect as netConnect, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import type { Attempt } from './attempt.js';
import { formatPeer, socketFailure } from './attempt.js';
import type { Endpoint, SourceBinding } from './types.js';

/** Refuses anything but a numeric address: probes never resolve names (no DNS on the hot path). */
export function assertNumeric(address: string, field: string): void {
  if (isIP(address) === 0) throw new Error(`${field} ${JSON.stringify(address)} is not an IPv4 or IPv6 address`);
}

/**
 * Opens a TCP (or TLS) connection bound to the probe's source, and fails the attempt on any
 * socket error. The caller destroys the socket in the attempt's cleanup.
 */
export function openStream(
  target: Endpoint,
  source: SourceBinding | undefined,
  attempt: Attempt,
  tls?: ConnectionOptions,
): Socket {
  assertNumeric(target.address, 'target address');
  if (source?.address !== undefined) assertNumeric(source.address, 'source address');
  const peer = formatPeer(target.address, target.port);
  const options = {
    host: target.address,
    port: target.port,
    ...(source?.address !== undefined ? { localAddress: source.address } : {}),
    ...(source?.port ? { localPort: source.port } : {}),
  };
  const socket = tls ? tlsConnect({ ...options, ...tls }) : netConnect(options);
  socket.on('error', (err) => {
    const [reason, message] = socketFailure(err, peer, attempt.phase);
    attempt.fail(reason, message);
  });
  return socket;
}
