import { writeFile, rename } from 'node:fs/promises';
import { SeedlineError, messageOf } from '../../common/errors.ts';
import { VERSION } from '../../common/version.ts';
import { CAPACITY_REPORT_FORMAT, type CapacityReport, type CapacityResult } from './capacity.ts';
import { renderCapacityHtml } from './capacity-html.ts';
import { defaultPagePath } from '../report/report.ts';

/** Writes `file` (JSON) and the HTML page beside it; returns the page's path. */
export async function writeCapacityReport(file: string, result: CapacityResult): Promise<string> {
  const report: CapacityReport = { format: CAPACITY_REPORT_FORMAT, tool: { name: 'seedline', version: VERSION }, writtenAt: new Date().toISOString(), ...result };
  const page = defaultPagePath(file);
  await writeAtomically(file, `${JSON.stringify(report, null, 1)}\n`);
  await writeAtomically(page, renderCapacityHtml(report, file));
  return page;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    throw new SeedlineError('USAGE', `cannot write the capacity report ${file}: ${messageOf(err)}`, { file, option: '--report', hint: 'check that the directory exists and is writable' });
  }
}
