/** Every PostgreSQL table (the mirror of ../../schema, file by file), for drizzle and drizzle-kit. */
export * from './account.ts';
export * from './alerts.ts';
export * from './auth.ts';
export * from './budgets.ts';
export * from './detection.ts';
export * from './incidents.ts';
export * from './keys.ts';
export * from './projects.ts';
export * from './rotations.ts';
export * from './sources.ts';
export * from './usage.ts';
