/** `keywatch import csv`: usage history from a CSV file, validated whole before anything is stored. */

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { AppError } from '../errors.ts';
import { CSV_FIELDS, importCsv, parseFieldMap } from '../ingest/csv/import.ts';
import { iso } from '../timestamps.ts';
import { err, type WithDeps } from './support.ts';

/** A malformed `--map` is a usage error (exit 2), found while the arguments are parsed. */
function fieldMapOption(value: string): string {
  try {
    parseFieldMap(value);
  } catch (e) {
    if (e instanceof AppError)
      throw new InvalidArgumentError((e.issues ?? []).map((i) => `${i.path}: ${i.message}`).join('; '));
    throw e;
  }
  return value;
}

export function addImportCommands(program: Command, withDeps: WithDeps): void {
  const importCmd = program.command('import').description('Import usage history.');
  importCmd
    .command('csv')
    .description(
      'Import usage events from a CSV file with a header row. Every row is validated first: one bad row ' +
        'rejects the file and nothing is stored. Importing the same file again stores nothing twice.',
    )
    .argument('<file>', 'the CSV file')
    .option(
      '--map <pairs>',
      `field=column pairs, e.g. ts=timestamp,key=api_key,credits=cost (fields: ${CSV_FIELDS.join(', ')}; ` +
        'unmapped fields use a column of the same name; ts and key are required)',
      fieldMapOption,
    )
    .option(
      '--source-name <name>',
      'prefix of the event ids (default: the file name); keep it when re-importing the same data',
    )
    .action(async (file: string, opts: { map?: string; sourceName?: string }) => {
      const map = parseFieldMap(opts.map);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new InvalidArgumentError(`cannot read ${file}: ${(e as Error).message}`);
      }
      await withDeps(async (deps) => {
        const s = await importCsv(deps, text, { map, sourceName: opts.sourceName ?? basename(file) });
        const span = s.from === null || s.to === null ? '' : ` from ${iso(s.from)} to ${iso(s.to)}`;
        err(
          `Imported ${s.accepted} of ${s.rows} rows for ${s.keys} key(s)${span}; ${s.duplicates} already stored.`,
        );
        if (s.discovered.length > 0) err(`New (discovered) keys: ${s.discovered.join(', ')}.`);
      });
    });
}
