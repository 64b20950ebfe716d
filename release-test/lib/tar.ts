import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A package tarball as npm reads it: its files (paths without the leading `package/`) and sizes. */
export interface Tarball {
  /** Bytes of the .tgz. */
  packedSize: number;
  files: Map<string, Buffer>;
}

const field = (block: Buffer, start: number, length: number) => {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
};

/** Reads a gzipped ustar archive (what `npm pack` and `pnpm pack` write): regular files only. */
export function readTarball(file: string): Tarball {
  const packed = readFileSync(file);
  const tar = gunzipSync(packed);
  const files = new Map<string, Buffer>();
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const name = field(header, 0, 100);
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = field(header, 345, 155);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x' || type === 'g') continue; // pax headers: npm writes none for short paths
    const path = longName ?? (prefix ? `${prefix}/${name}` : name);
    longName = undefined;
    if (type === '0' || type === '\0') files.set(path.replace(/^package\//, ''), Buffer.from(body));
  }
  return { packedSize: packed.length, files };
}

/** The sum of the files' sizes. */
export const unpackedSize = (tarball: Tarball) => [...tarball.files.values()].reduce((sum, body) => sum + body.length, 0);
