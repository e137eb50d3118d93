/** Every table, for drizzle's relational queries and for drizzle-kit. */
export * from './auth.ts';
export * from './detection.ts';
export * from './incidents.ts';
export * from './keys.ts';
export * from './projects.ts';
export * from './usage.ts';
