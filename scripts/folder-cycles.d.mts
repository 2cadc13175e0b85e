/** Types of folder-cycles.mjs, for test/unit/structure.spec.ts. */
export function folderOf(file: string): string;
export function folderGraph(root?: string): Map<string, string[]>;
export function fileGraph(root?: string): Map<string, string[]>;
export function folderCycles(
  edges: Map<string, string[]>,
  ignore?: string[],
): { folders: string[]; edges: { edge: string; imports: string[] }[] }[];
export function sqlBackEdges(root?: string): { edge: string; references: string[] }[];
