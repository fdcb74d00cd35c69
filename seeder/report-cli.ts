import { Command } from 'commander';
import { formatCount } from '../common/progress.ts';
import { writeReportPage } from './report.ts';

/** `seedline report <run.json>`: the run report that `seed --report` wrote, as an HTML page. */
export function reportCommand(): Command {
  return new Command('report')
    .description('render a seed run report (seed --report run.json) as a self-contained HTML page with charts')
    .argument('<run.json>', 'the run report that seed --report wrote')
    .option('--out <file>', 'where to write the page (default: beside the report, .json → .html)')
    .addHelpText(
      'after',
      `
The page charts target vs achieved rate and confirm latency (p50, p99) per second, with pauses
shaded, and lists the counts, stalls, pauses, returned events by type and the latency
percentiles of the whole run. It loads nothing from the network: open it in any browser.

Example:
  $ seedline seed --events events --exchange seedline --rate 2000 --report run.json
  $ seedline report run.json            # writes run.html
`,
    )
    .action(async (file: string, flags: { out?: string }) => {
      const { out, report } = await writeReportPage(file, flags.out);
      process.stdout.write(`report: ${out} (${formatCount(report.seconds.length)} seconds, ${formatCount(report.counts.confirmed)} events confirmed)\n`);
      process.exitCode = 0;
    });
}
