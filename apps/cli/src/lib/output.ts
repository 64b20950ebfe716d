import { createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { UserError } from '../user-error.js';

/**
 * Where a command's data goes: stdout, or a file written under a temporary name and renamed into
 * place when complete (a failed export never leaves a half-written file behind). Writes wait for
 * the stream to drain, so memory stays flat however much is written.
 */
export interface Output {
  write(chunk: string): Promise<void>;
  /** Finishes the file (rename into place) or flushes stdout. */
  close(): Promise<void>;
  /** Removes the partial file. */
  abort(): Promise<void>;
  /** Set when the reader of stdout went away (`| head`): stop writing, exit quietly. */
  readonly broken: boolean;
}

/** Thrown through a command when stdout was closed by its reader: the CLI exits 0 silently. */
export class BrokenPipe extends Error {
  override readonly name = 'BrokenPipe';
}

export function checkOutPath(out: string, force: boolean, sources: readonly string[] = []): void {
  const target = resolve(out);
  if (sources.some((source) => resolve(source) === target)) throw new UserError(`--out ${out} is the database itself: choose another file`);
  if (!existsSync(dirname(target))) throw new UserError(`cannot write ${out}: the folder ${dirname(out)} does not exist`);
  if (existsSync(target) && statSync(target).isDirectory()) throw new UserError(`cannot write ${out}: it is a folder`);
  if (existsSync(target) && !force) throw new UserError(`${out} already exists (add --force to overwrite it)`);
}

export function openOutput(out: string | undefined): Output {
  if (out === undefined) return streamOutput(process.stdout, async () => undefined, async () => undefined);
  const target = resolve(out);
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  const stream = createWriteStream(temporary);
  const finish = () =>
    new Promise<void>((resolveEnd, reject) => {
      stream.once('error', reject);
      stream.end(() => resolveEnd());
    });
  return streamOutput(
    stream,
    async () => {
      await finish();
      renameSync(temporary, target);
    },
    async () => {
      stream.destroy();
      rmSync(temporary, { force: true });
    },
  );
}

function streamOutput(stream: Writable, onClose: () => Promise<void>, onAbort: () => Promise<void>): Output {
  let broken = false;
  let failure: Error | null = null;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') broken = true;
    else failure = error;
  });
  const check = () => {
    if (broken) throw new BrokenPipe('the reader of the output went away');
    if (failure) throw new UserError(`cannot write the output: ${failure.message}`);
  };
  return {
    get broken() {
      return broken;
    },
    async write(chunk: string) {
      check();
      if (stream.write(chunk)) return;
      await new Promise<void>((resolveDrain) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('error', done);
          stream.off('close', done);
          resolveDrain();
        };
        stream.on('drain', done);
        stream.on('error', done);
        stream.on('close', done);
      });
      check();
    },
    async close() {
      check();
      await onClose();
    },
    abort: onAbort,
  };
}
