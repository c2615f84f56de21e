#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the same sources serve the app, the tests and batch use.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/main.ts');
const code = await main(process.argv.slice(2));
if (process.argv[2] !== 'serve' || code !== 0) process.exit(code);
