import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Test support: Google's protobuf tools, installed by scripts/ensure-services.sh
 * (protobuf-compiler, python3-protobuf), to check that what seedline writes is read by
 * something other than protobufjs.
 */

/** protoc's complaints about `files` (relative to `dir`), or '' when it accepts them all. */
export function protocErrors(dir: string, files: readonly string[]): string {
  const run = spawnSync('protoc', [`-I${dir}`, '--descriptor_set_out=/dev/null', ...files], { encoding: 'utf8' });
  if (run.error) throw run.error;
  return run.status === 0 ? '' : `${run.stderr}${run.stdout}`.trim() || `protoc exited ${run.status}`;
}

/** The Python that has Debian's python3-protobuf (a pyenv `python3` first on PATH may not). */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export function python(script: string, args: readonly string[]): string {
  return execFileSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}
