#!/usr/bin/env node
// The `keywatch` command. Runs the compiled build (server/.build/, made by `npm install` through
// server/build.mjs) while it is at least as new as every source it was built from: plain Node,
// no loader, a fraction of the start-up time. Otherwise (no build yet, or a source edited since)
// it runs the TypeScript sources through tsx, so a checkout works without any build step.
import { pathToFileURL } from 'node:url';
import { freshBuild } from './fresh-build.mjs';

const compiled = freshBuild();
if (compiled) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cli/index.ts');
}
