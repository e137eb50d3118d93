/**
 * The CLI's first module (cli/index.ts imports it before anything else, so it runs before the rest
 * of the CLI's code loads): for `keywatch serve`, the gateway's writer thread starts loading here.
 * The listener waits for that thread, and its code loads on the other core while this one loads
 * the CLI and the server and migrates the database (issue 14's start time).
 */
import { prestartWriterThread } from '../ingest/gateway/usage-writer.ts';

if (process.argv[2] === 'serve') prestartWriterThread();
