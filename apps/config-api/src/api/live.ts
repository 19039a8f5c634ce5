import type { CommandReply, FulcrumEvent, RequestSubject } from '@fulcrum/schemas';

// What the API needs from NATS besides the desired state, as small interfaces so that route specs run on doubles.

export interface CommandSender {
  /** Sends a command to one host; a timeout or an absent agent comes back as an error reply, never a throw. */
  send<Req>(subject: RequestSubject<Req, CommandReply>, host: string, request: Req): Promise<CommandReply>;
}

export interface StatusSource {
  /** The latest observed state: one event per status key. */
  all(): Promise<FulcrumEvent[]>;
}

export interface EventFeed {
  /** Calls `listener` with every event from now on; returns the function that stops it. */
  subscribe(listener: (event: FulcrumEvent) => void): () => void;
}
