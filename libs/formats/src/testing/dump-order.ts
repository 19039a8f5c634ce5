import { destinationId, serviceId, type IpvsService, type IpvsTable } from '@fulcrum/schemas';
import { formatAddressPort } from '../ipvsadm/inet.js';

// Spec helpers: ipvsadm sorts with a comparison that is not always transitive, so its output
// depends on the order the kernel dumped the table in, which `ipvsadm -Ln --nosort` shows.

/** The service and destination order of an `ipvsadm -Ln --nosort` listing. */
export function listingOrder(listing: string): { service: string; destinations: string[] }[] {
  const out: { service: string; destinations: string[] }[] = [];
  for (const line of listing.split('\n').slice(3)) {
    const dest = /^ {2}-> (\S+)/.exec(line);
    if (dest) out[out.length - 1]?.destinations.push(dest[1] as string);
    else if (line !== '') {
      const [kind, what, maybeV6] = line.split(/ +/);
      out.push({ service: `${kind} ${what}${kind === 'FWM' && maybeV6 === 'IPv6' ? ' IPv6' : ''}`, destinations: [] });
    }
  }
  return out;
}

/** How the listing names a service: `TCP 10.0.0.1:80`, `FWM -1 IPv6`. */
export function listingName(s: Pick<IpvsService, 'key'>): string {
  if (s.key.kind === 'fwmark') return `FWM ${s.key.fwmark | 0}${s.key.family === 'inet6' ? ' IPv6' : ''}`;
  return `${s.key.protocol.toUpperCase()} ${formatAddressPort(s.key.address, s.key.port)}`;
}

/** The table rearranged into the order of a `--nosort` listing; throws if they hold different entries. */
export function inListingOrder<T extends IpvsTable>(table: T, listing: string): T {
  const order = listingOrder(listing);
  if (order.length !== table.services.length) throw new Error(`listing has ${order.length} services, table ${table.services.length}`);
  const services = order.map(({ service, destinations }) => {
    const s = table.services.find((x) => listingName(x) === service);
    if (!s) throw new Error(`service ${service} of the listing is not in the table`);
    if (destinations.length !== s.destinations.length) throw new Error(`${service}: listing has ${destinations.length} real servers, table ${s.destinations.length}`);
    const dests = destinations.map((d) => {
      const found = s.destinations.find((x) => formatAddressPort(x.address, x.port) === d);
      if (!found) throw new Error(`real server ${d} of ${service} is not in the table`);
      return found;
    });
    return { ...s, destinations: dests };
  });
  return { ...table, services };
}

/** An order-free form of a table, to compare contents. */
export function canonicalTable(t: IpvsTable): IpvsService[] {
  return t.services
    .map((s) => ({ ...s, destinations: [...s.destinations].sort((a, b) => destinationId(a).localeCompare(destinationId(b))) }))
    .sort((a, b) => serviceId(a.key).localeCompare(serviceId(b.key)));
}
