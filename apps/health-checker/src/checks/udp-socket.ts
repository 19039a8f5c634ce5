import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Attempt } from './attempt.js';
import { formatPeer, socketFailure } from './attempt.js';
import { assertNumeric } from './socket.js';
import type { Endpoint, SourceBinding } from './types.js';

/**
 * A UDP socket bound to the probe's source and connected to the target, so the kernel filters
 * replies from other peers and reports an ICMP port unreachable as ECONNREFUSED. `ready` runs
 * once connected; the caller closes the socket in the attempt's cleanup.
 */
export function openDatagram(target: Endpoint, source: SourceBinding | undefined, attempt: Attempt, ready: (s: Socket) => void): Socket {
  assertNumeric(target.address, 'target address');
  if (source?.address !== undefined) assertNumeric(source.address, 'source address');
  const socket = createSocket(isIP(target.address) === 6 ? 'udp6' : 'udp4');
  const peer = formatPeer(target.address, target.port);
  socket.on('error', (err) => {
    const [reason, message] = socketFailure(err, peer, attempt.phase);
    attempt.fail(reason, reason === 'refused' ? `${peer} answered ICMP port unreachable` : message);
  });
  const connect = (): void => socket.connect(target.port, target.address, () => ready(socket));
  if (source?.address !== undefined || source?.port) {
    socket.bind({ address: source.address, port: source.port ?? 0, exclusive: true }, connect);
  } else connect();
  return socket;
}

export function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // Already closed.
  }
}
