import { Command } from 'commander';
import { SeedlineError } from '../../common/errors.ts';
import { formatCount } from '../../common/progress.ts';
import { readRunReport } from './report.ts';
import { writeReportPage } from './report-page.ts';
import { combineReports, formatCombined } from './report-combine.ts';

/** `seedline report <run.json>`: the run report that `seed --report` wrote, as an HTML page. */
export function reportCommand(): Command {
  return new Command('report')
    .description('render a seed run report (seed --report run.json) as a self-contained HTML page with charts')
    .argument('<run.json...>', 'the run report that seed --report wrote; several: the reports of N --partition i/N runs, checked together')
    .option('--out <file>', 'where to write the page (default: beside the report, .json → .html)')
    .addHelpText(
      'after',
      `
The page charts target vs achieved rate and confirm latency (p50, p99) per second, with pauses
shaded, and lists the counts, stalls, pauses, returned events by type and the latency
percentiles of the whole run. It loads nothing from the network: open it in any browser.

Examples:
  $ seedline seed --events events --exchange seedline --rate 2000 --report run.json
  $ seedline report run.json            # writes run.html

Given the reports of N partitioned runs (seed --partition i/N --report p<i>.json), it prints
one line per partition and says whether the whole data set arrived: every partition 0..N-1
there, each confirmed through the end (a run and its --resume may both be given, in that
order), nothing unroutable; otherwise it lists what is missing and exits with an error.
  $ seedline report p0.json p1.json p2.json
`,
    )
    .action(async (files: string[], flags: { out?: string }) => {
      if (files.length > 1) {
        if (flags.out) throw new SeedlineError('USAGE', '--out renders one report; give one run.json with it', { option: '--out' });
        const view = combineReports(await Promise.all(files.map(async (file) => ({ file, report: await readRunReport(file) }))));
        process.stdout.write(`${formatCombined(view)}\n`);
        if (view.problems.length > 0) {
          throw new SeedlineError('VERIFY_FAILED', `the partitioned runs did not deliver the whole data set: ${view.problems[0]}`, { hint: 'resume the partitions that did not finish (seed --partition i/N --resume)' });
        }
        process.exitCode = 0;
        return;
      }
      const file = files[0]!;
      const { out, report } = await writeReportPage(file, flags.out);
      process.stdout.write(`report: ${out} (${formatCount(report.seconds.length)} seconds, ${formatCount(report.counts.confirmed)} events confirmed)\n`);
      process.exitCode = 0;
    });
}
