#!/usr/bin/env node
// The `governor` command. Runs the TypeScript sources directly through tsx's loader, so there is
// no build step between a change and the command a person runs.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);
