import { defineConfig } from 'drizzle-kit';

// The PostgreSQL mirror of drizzle.config.ts: its own schema files and its own migrations.
export default defineConfig({
  dialect: 'postgresql',
  schema: './server/db/pg/schema/*.ts',
  out: './migrations/pg',
});
