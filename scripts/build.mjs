// The compiled build that bin/seedline.js runs: the TypeScript sources bundled by esbuild into
// plain ES modules under dist/, one folder per build. Compiling at run time (tsx) cost every
// command 1.5-2.4 s of start-up, in the main thread and again in each worker thread.
//
// `npm run build` (and `npm ci`, through `prepare`) makes it; bin/seedline.js checks at every
// start that no source file changed since (a stat per source file, ~2 ms) and builds again if one
// did (~0.3 s), so an edited module is never run stale. The sources stay the truth: tests and
// benchmarks run them directly.
//
// Each build gets its own folder (dist/b-<fingerprint>), written under a temporary name and
// renamed when complete, so two commands starting at once never see half a build, and a
// long-running command keeps its own build's lazily loaded chunks while a newer one is made.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST = join(ROOT, 'dist');
const CURRENT = join(DIST, 'current.json');
/** Builds kept besides the current one, for commands still running from them. */
const KEEP_OLD_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * The entry points: the CLI, and what worker threads load by URL (the transform's generation
 * worker and its module list), which must sit beside the chunks as plain files.
 */
const ENTRY_POINTS = {
  main: 'cli/main.ts',
  'generate-worker': 'transformer/generate-worker.ts',
  modules: 'transformer/modules/index.ts',
};

/** The compiled CLI's URL: the current build when it is up to date, else a new one. */
export async function compiledEntry() {
  const current = readCurrent();
  if (current && upToDate(current.inputs)) return entryUrl(current.dir);
  return entryUrl((await build()).dir);
}

/** Builds into a fresh folder and makes it current; returns the record written to current.json. */
export async function build({ log = () => {} } = {}) {
  const { build: esbuild } = await import('esbuild');
  mkdirSync(DIST, { recursive: true });
  const tmp = join(DIST, `tmp-${process.pid}-${Date.now()}`);
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: ENTRY_POINTS,
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'error',
  });
  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) {
    if (file.startsWith('node_modules/')) continue;
    inputs[file] = signature(join(ROOT, file));
  }
  const dir = `b-${createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16)}`;
  try {
    renameSync(tmp, join(DIST, dir));
  } catch {
    // Another command built the same sources at the same moment: theirs is as good as ours.
    rmSync(tmp, { recursive: true, force: true });
  }
  const record = { dir, builtAt: new Date().toISOString(), inputs };
  const tmpCurrent = `${CURRENT}.${process.pid}.tmp`;
  writeFileSync(tmpCurrent, JSON.stringify(record, null, 1));
  renameSync(tmpCurrent, CURRENT);
  removeOldBuilds(dir);
  log(`built ${relative(ROOT, join(DIST, dir))} from ${Object.keys(inputs).length} source files`);
  return record;
}

/** The current build's record (dist/current.json), if it exists and its folder is there. */
export function readCurrent() {
  try {
    const record = JSON.parse(readFileSync(CURRENT, 'utf8'));
    statSync(join(DIST, record.dir, 'main.js'));
    return record;
  } catch {
    return undefined;
  }
}

function upToDate(inputs) {
  return changedInputs(inputs).length === 0;
}

/** The source files (relative to the checkout) whose size or time differs from a build's record. */
export function changedInputs(inputs) {
  return Object.entries(inputs)
    .filter(([file, sig]) => signature(join(ROOT, file)) !== sig)
    .map(([file]) => file);
}

/** A source file's size and modification time: what changes when someone edits it. */
function signature(path) {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

function entryUrl(dir) {
  return pathToFileURL(join(DIST, dir, 'main.js')).href;
}

function removeOldBuilds(keep) {
  const now = Date.now();
  for (const name of readdirSync(DIST)) {
    if (name === keep || !(name.startsWith('b-') || name.startsWith('tmp-'))) continue;
    const path = join(DIST, name);
    try {
      if (now - statSync(path).mtimeMs > KEEP_OLD_FOR_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another command meanwhile.
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build({ log: (line) => console.log(`seedline: ${line}`) });
}
