/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  lang: string;
  code: string;
  /** Line of the opening fence, 1-based. */
  line: number;
  /** A file name given by the first line, `// example.mjs` (then the block is meant to be saved and run). */
  file?: string;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    const code = `${lines.slice(i + 1, end).join('\n')}\n`;
    const file = /^\/\/ ([\w.-]+\.(?:mjs|cjs|js|ts|mts|cts))\b/.exec(code)?.[1];
    blocks.push({ lang: open[1]!, code, line: i + 1, ...(file ? { file } : {}) });
    i = end;
  }
  return blocks;
}

/** The text outside code: fenced blocks and inline code spans removed. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```\s*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Every link target of the prose: inline links and images, reference definitions, HTML href/src. */
export function links(markdown: string): string[] {
  const text = prose(markdown);
  return [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
    ...[...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g)].map((m) => m[1]!),
  ];
}

/** The anchors of the headings, as GitHub and npm make them (lower case, punctuation dropped, spaces to hyphens, repeats numbered). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of markdown.replace(/^```[\s\S]*?^```\s*$/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = match[1]!
      .replace(/<[^>]+>/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/**
 * What a ```console block says a command prints: for `$ node example.mjs`, the lines after it up to the
 * next `$` line. Undefined when no console block shows the command.
 */
export function documentedOutput(markdown: string, command: string): string | undefined {
  for (const block of codeBlocks(markdown)) {
    if (block.lang !== 'console') continue;
    const lines = block.code.trimEnd().split('\n');
    const start = lines.indexOf(`$ ${command}`);
    if (start === -1) continue;
    let end = start + 1;
    while (end < lines.length && !lines[end]!.startsWith('$ ')) end++;
    return `${lines.slice(start + 1, end).join('\n')}\n`;
  }
  return undefined;
}
