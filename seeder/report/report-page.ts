import { rename, writeFile } from 'node:fs/promises';
import { SeedlineError, messageOf } from '../../common/errors.ts';
import { renderReportHtml } from './report-html.ts';
import { defaultPagePath, readRunReport, type RunReport } from './report.ts';

/** `seedline report`: renders a run report as a self-contained HTML page; returns the page's path. */
export async function writeReportPage(file: string, out = defaultPagePath(file)): Promise<{ out: string; report: RunReport }> {
  const report = await readRunReport(file);
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, renderReportHtml(report, file));
    await rename(tmp, out);
  } catch (err) {
    throw new SeedlineError('USAGE', `cannot write the report page ${out}: ${messageOf(err)}`, { file: out, option: '--out', hint: 'check that the directory exists and is writable' });
  }
  return { out, report };
}
