import type { Manifest } from '../recordfile/index.ts';
import { balance, ok, unaccounted, type Balance } from './balance.ts';
import { checkPartFiles } from './part-files.ts';

/** Per table of the dump: rows the extract counted = rows in the parts on disk. */
export async function extractBalances(dump: string, manifest: Manifest): Promise<Balance[]> {
  const out: Balance[] = [];
  for (const [table, stream] of Object.entries(manifest.streams)) {
    const parts = await checkPartFiles(dump, stream);
    const terms = [ok(`in ${parts.present} part${parts.present === 1 ? '' : 's'} on disk`, parts.records), ...parts.problems];
    if (!stream.complete) terms.push(unaccounted('the extract of this table did not finish (extract again to resume it)', 0));
    out.push(balance('extract', table, { label: 'rows extracted (manifest)', count: stream.records }, terms, { extraLabel: 'more rows in the parts than the manifest counts' }));
  }
  return out;
}
