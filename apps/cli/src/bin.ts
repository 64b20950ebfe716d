#!/usr/bin/env node
import { run } from './cli.js';

// `llm-monitor report | head -3`: the reader went away, which is no error of ours
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const code = await run(process.argv);
process.exitCode = code;
// Everything is closed by now; should a stray handle remain, it must not keep the process alive.
setTimeout(() => process.exit(code), 2000).unref();
