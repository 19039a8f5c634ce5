import type { IpvsServiceKey } from '@fulcrum/schemas';
import { describeServiceKey } from './describe.js';
import { formatAddressPort } from './inet.js';
import type { IpvsadmOperation } from './operation.js';
import { forwardSwitch, serviceOption, serviceSettingsOptions, tunnelOptions } from './save.js';

/** `-t 10.0.0.1:80` / `-f 7 -6`, with the mark unsigned: a command line must be one ipvsadm accepts. */
function commandServiceOption(key: IpvsServiceKey): string {
  if (key.kind === 'fwmark') return `-f ${key.fwmark >>> 0}${key.family === 'inet6' ? ' -6' : ''}`;
  return serviceOption(key);
}

/**
 * One operation as the ipvsadm command that makes it, e.g. `ipvsadm -a -t 10.0.0.1:80 -r
 * 10.0.1.5:80 -m -w 3 -x 100`, for dry-run output and logs. Unlike ipvsadm-save, thresholds are
 * included, so running the printed commands gives exactly the operation.
 */
export function formatIpvsadmCommand(op: IpvsadmOperation): string {
  switch (op.op) {
    case 'addService':
    case 'editService':
      return `ipvsadm ${op.op === 'addService' ? '-A' : '-E'} ${commandServiceOption(op.service.key)}${serviceSettingsOptions(op.service)}`;
    case 'deleteService':
      return `ipvsadm -D ${commandServiceOption(op.key)}`;
    case 'addDestination':
    case 'editDestination': {
      const d = op.destination;
      let line = `ipvsadm ${op.op === 'addDestination' ? '-a' : '-e'} ${commandServiceOption(op.key)}`;
      line += ` -r ${formatAddressPort(d.address, d.port)} ${forwardSwitch(d)} -w ${d.weight}`;
      line += tunnelOptions(d, `${describeServiceKey(op.key)} -> ${d.address}`);
      if (d.upperThreshold > 0) line += ` -x ${d.upperThreshold}`;
      if (d.lowerThreshold > 0) line += ` -y ${d.lowerThreshold}`;
      return line;
    }
    case 'deleteDestination':
      return `ipvsadm -d ${commandServiceOption(op.key)} -r ${formatAddressPort(op.destination.address, op.destination.port)}`;
    case 'flush':
      return 'ipvsadm -C';
    case 'zero':
      return op.key ? `ipvsadm -Z ${commandServiceOption(op.key)}` : 'ipvsadm -Z';
    case 'setTimeouts':
      return `ipvsadm --set ${op.timeouts.tcp} ${op.timeouts.tcpFin} ${op.timeouts.udp}`;
  }
}
