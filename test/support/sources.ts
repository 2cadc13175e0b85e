import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

/** The files below `dir` (relative to the root) whose name `include` accepts, as paths relative to the root. */
export function sourceFiles(dir: string, include: (name: string) => boolean): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(rel, include);
    return include(entry.name) ? [rel] : [];
  });
}

/** Every line of `files` that `pattern` matches, with its file and line number (for a readable failure). */
export function linesMatching(files: string[], pattern: RegExp): { file: string; line: number; text: string }[] {
  return files.flatMap((file) =>
    readFileSync(path.join(root, file), 'utf8')
      .split('\n')
      .map((text, i) => ({ file, line: i + 1, text: text.trim() }))
      .filter(({ text }) => pattern.test(text)),
  );
}
