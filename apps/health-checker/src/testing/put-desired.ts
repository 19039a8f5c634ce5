// Writes desired-state objects to the KV bucket, as config-api would: for specs whose services run
// in a namespace the spec's own process cannot reach (the lab's director).
//   node --import tsx put-desired.ts nats://127.0.0.1:4222 '<json array of desired objects>'
import { connectBus, openStore } from '@fulcrum/bus';
import { desiredBucket, desiredObject, keyOf } from '@fulcrum/schemas';

const [url, json] = process.argv.slice(2);
if (url === undefined || json === undefined) {
  process.stderr.write('usage: put-desired.ts NATS_URL JSON_ARRAY\n');
  process.exit(2);
}
const bus = await connectBus({ servers: url, name: 'put-desired', waitForServer: true });
const store = await openStore(bus, desiredBucket);
for (const raw of JSON.parse(json) as unknown[]) {
  const obj = desiredObject.parse(raw);
  await store.put(keyOf(obj), obj);
}
await bus.drain();
