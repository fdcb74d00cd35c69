// Types of scripts/build.mjs for the TypeScript code and tests that import it.
export interface BuildRecord {
  /** The build's folder under dist/. */
  readonly dir: string;
  readonly builtAt: string;
  /** Each source file bundled (relative to the checkout) → "size:mtimeMs" when it was built. */
  readonly inputs: Readonly<Record<string, string>>;
}
export function compiledEntry(): Promise<string>;
export function build(options?: { log?: (line: string) => void }): Promise<BuildRecord>;
export function readCurrent(): BuildRecord | undefined;
export function changedInputs(inputs: Readonly<Record<string, string>>): string[];
