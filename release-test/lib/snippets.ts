import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { codeBlocks } from './markdown.js';

/** A README example saved as a file of a project. */
export interface Snippet {
  /** Path in the project: `<package folder name>/<file>`, e.g. `driver-node/example.mjs`. */
  path: string;
  code: string;
  /** `browser` when it uses Vite's client types (checked with bundler resolution and the DOM), else `node`. */
  target: 'node' | 'browser';
}

/**
 * The examples of a package's README: every block that names its file on its first line
 * (`// example.mjs`), and every `ts` block that imports one of our packages (type signatures, which
 * import nothing, are not examples).
 */
export function readmeSnippets(name: string, readme: string): Snippet[] {
  const folder = name.replace(/^@llm-monitor\//, '');
  return codeBlocks(readme)
    .filter((block) => block.file !== undefined || (block.lang === 'ts' && /from '@llm-monitor\//.test(block.code)))
    .map((block) => ({
      path: `${folder}/${block.file ?? `readme-line-${block.line}.ts`}`,
      code: block.code,
      target: block.code.includes('/// <reference types="vite/client" />') ? 'browser' : 'node',
    }));
}

export function writeSnippets(dir: string, snippets: readonly Snippet[]): void {
  for (const snippet of snippets) {
    mkdirSync(dirname(join(dir, snippet.path)), { recursive: true });
    writeFileSync(join(dir, snippet.path), snippet.code);
  }
}
