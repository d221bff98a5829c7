#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx, so a clean `npm ci` is enough
// (no build step). Node >= 20.6 is needed for module.register, which tsx uses.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
