#!/usr/bin/env node
import { run } from './cli.js';

const code = await run(process.argv);
process.exitCode = code;
// Everything is closed by now; should a stray handle remain, it must not keep the process alive.
setTimeout(() => process.exit(code), 2000).unref();
