import { type Bus, BusUnavailableError, RemoteError, RequestTimeoutError, openStore } from '@fulcrum/bus';
import { type CommandReply, type FulcrumEvent, type RequestSubject, errorReply, eventsSubject, statusBucket } from '@fulcrum/schemas';
import type { CommandSender, EventFeed, StatusSource } from './api/live.js';

// The API's live parts over NATS: commands by request/reply, status from the status bucket, events by subscription.

export function natsCommands(bus: Bus, timeoutMs: number): CommandSender {
  return {
    async send<Req>(subject: RequestSubject<Req, CommandReply>, host: string, request: Req): Promise<CommandReply> {
      try {
        return await bus.request(subject, { host }, request, { timeoutMs });
      } catch (err) {
        if (err instanceof RequestTimeoutError) return errorReply('TIMEOUT', `${host} did not answer within ${timeoutMs} ms`);
        if (err instanceof BusUnavailableError) return errorReply('UNAVAILABLE', `no agent on ${host} serves this command (or NATS is down)`);
        if (err instanceof RemoteError) return errorReply('INVALID_REQUEST', `${host} refused the request: ${err.message}`.slice(0, 1000));
        return errorReply('INTERNAL', `${host}: ${(err as Error).message}`.slice(0, 1000));
      }
    },
  };
}

export async function natsStatus(bus: Bus, replicas = 1): Promise<StatusSource> {
  const store = await openStore(bus, statusBucket, { replicas });
  return { all: async () => [...(await store.readAll()).entries.values()].map((e) => e.value) };
}

/** One NATS subscription shared by every SSE client. */
export function natsEvents(bus: Bus): EventFeed & { close(): void } {
  const listeners = new Set<(e: FulcrumEvent) => void>();
  const sub = bus.subscribe(eventsSubject, {}, (event) => {
    for (const l of listeners) l(event);
  });
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => sub.unsubscribe(),
  };
}
