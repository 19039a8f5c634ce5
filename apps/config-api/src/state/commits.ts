// The commit log's records and bucket live in @fulcrum/bus, beside watchGenerations() that agents read them with.
export { COMMITS_BUCKET, GENERATION_KEY, commitsBucket, commitRecord, generationRecord, journalRecord } from '@fulcrum/bus';
export type { CommitRecord, GenerationRecord, JournalRecord } from '@fulcrum/bus';
