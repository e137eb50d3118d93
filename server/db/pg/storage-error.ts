/**
 * The database cannot be reached, entered or migrated: `message` is one sentence for the operator.
 * Its own module so that the CLI can recognise it without loading node-postgres.
 */
export class PgStorageError extends Error {}
