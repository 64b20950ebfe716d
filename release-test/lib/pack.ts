import { join } from 'node:path';
import { runOk } from './run.js';
import { type WorkspacePackage, PNPM, ROOT, tarballName } from './workspace.js';

/** A published package packed as `pnpm publish` would upload it. */
export interface Packed {
  name: string;
  dir: string;
  version: string;
  /** The .tgz file. */
  file: string;
}

/**
 * `pnpm pack` of each package into `destination`, the way `pnpm publish` (and so `changeset publish`)
 * packs it: `workspace:` ranges replaced by versions.
 */
export async function packAll(packages: readonly WorkspacePackage[], destination: string, root = ROOT): Promise<Packed[]> {
  const packed: Packed[] = [];
  // one at a time: each pnpm run reads the whole workspace, and the machine has two cores
  for (const { dir, json } of packages) {
    await runOk(process.execPath, [PNPM, 'pack', '--pack-destination', destination], { cwd: join(root, dir) });
    packed.push({ name: json.name, dir, version: json.version, file: join(destination, tarballName(json.name, json.version)) });
  }
  return packed;
}
