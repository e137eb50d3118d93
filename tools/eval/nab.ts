/** The NAB part of `npm run eval` alone: `npx tsx tools/eval/nab.ts` (a minute or two on 2 cores). */
import { runNab } from './nab-eval.ts';

const nab = runNab();
console.log(nab.output);
if (!nab.ok) process.exitCode = 1;
