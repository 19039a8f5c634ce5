import { defineBucket, desiredObject, slug } from '@fulcrum/schemas';
import { z } from 'zod';

// The commit log next to the desired-state bucket, written by config-api (its README, "Transactions") and read by
// every agent through watchGenerations(): `generation` says which desired revision agents may apply up to;
// `txn.<id>` journals a commit while its keys are being written, so that a config-api that dies half way rolls the
// commit forward on its next start. It lives here, beside its reader, so that agents need not import an app.

export const COMMITS_BUCKET = 'fulcrum-commits';
export const GENERATION_KEY = 'generation';

export const generationRecord = z
  .object({
    kind: z.literal('generation'),
    generation: z.number().int().min(0),
    /** Every desired-state write up to this revision belongs to a finished commit. */
    revision: z.number().int().min(0),
    txn: z.string().min(1).max(64),
    keys: z.array(z.string()).max(100_000),
    author: z.string().max(100),
    time: z.iso.datetime({ offset: true }),
  })
  .strict();
export type GenerationRecord = z.infer<typeof generationRecord>;

const journalChange = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), key: z.string(), value: desiredObject }).strict(),
  z.object({ op: z.literal('delete'), key: z.string() }).strict(),
]);

export const journalRecord = z
  .object({
    kind: z.literal('journal'),
    txn: slug,
    author: z.string().max(100),
    time: z.iso.datetime({ offset: true }),
    changes: z.array(journalChange),
  })
  .strict();
export type JournalRecord = z.infer<typeof journalRecord>;

export const commitRecord = z.discriminatedUnion('kind', [generationRecord, journalRecord]);
export type CommitRecord = z.infer<typeof commitRecord>;

export const commitsBucket = defineBucket(COMMITS_BUCKET, commitRecord, { history: 1 });
