export { connectBus, ERROR_HEADER } from './bus.js';
export type {
  Bus,
  BusAuth,
  BusOptions,
  BusState,
  BusStateEvent,
  BusSubscription,
  MessageHandler,
  MessageMeta,
  RequestHandler,
} from './bus.js';
export { openStore } from './store.js';
export { watchGenerations } from './generations.js';
export type { BatchRelease, GenerationBatch, GenerationWatch, GenerationWatchOptions } from './generations.js';
export { followDesiredState } from './follow-desired.js';
export { STATUS_REFRESH_MS, StatusPublisher } from './status-publisher.js';
export type { StatusPublisherOptions } from './status-publisher.js';
export type { FollowDesiredOptions } from './follow-desired.js';
export {
  COMMITS_BUCKET,
  GENERATION_KEY,
  commitRecord,
  commitsBucket,
  generationRecord,
  journalRecord,
} from './commit-log.js';
export type { CommitRecord, GenerationRecord, JournalRecord } from './commit-log.js';
export type { OpenStoreOptions, Store, StoreChange, StoreEntry, StoreSnapshot, StoreWatch, WatchOptions } from './store.js';
export {
  BusAuthenticationError,
  BusError,
  BusUnavailableError,
  formatIssues,
  InvalidKeyError,
  InvalidMessageError,
  RemoteError,
  ReplyErrorCode,
  RequestTimeoutError,
  RevisionConflictError,
} from './errors.js';
export type { MessageIssue } from './errors.js';
export { subscriptionSubject, tokensOf } from './codec.js';
