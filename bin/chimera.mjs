#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader, so `npx chimera` works in a checkout
// without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
