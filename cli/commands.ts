import type { Command } from 'commander';
import { demoCommand } from '../demo/cli.ts';
import { extractCommand } from '../extractor/cli.ts';
import { fixtureCommand } from '../fixtures/cli.ts';
import { schemaCommand } from '../extractor/schema-cli.ts';
import { verifyCommand } from '../extractor/verify-cli.ts';
import { reportCommand } from '../seeder/report-cli.ts';
import { backendSimCommand } from '../seeder/backend-sim-cli.ts';
import { capacityCommand } from '../seeder/capacity-cli.ts';
import { seedCommand } from '../seeder/cli.ts';
import { tapCommand } from '../seeder/tap-cli.ts';
import { inspectCommand } from '../transformer/inspect-cli.ts';
import { modulesCommand } from '../transformer/modules-cli.ts';
import { transformCommand } from '../transformer/cli.ts';

/**
 * One short line per command for `seedline --help`'s list (each command's own --help keeps
 * its full description), short enough not to wrap at 80 columns: a list of long, wrapped paragraphs is hard to scan.
 */
const SUMMARIES: Readonly<Record<string, string>> = {
  demo: 'fixture → extract → transform → seed, no setup',
  extract: 'dump tables to gzipped protobuf record files',
  transform: 'turn a dump into one time-ordered event stream',
  seed: 'replay events into RabbitMQ at a chosen rate',
  tap: 'check every event arrived on the exchange',
  report: 'render a seed run report as an HTML page',
  capacity: 'find the highest rate the backend sustains',
  'backend-sim': 'a stand-in backend: module queues at set speeds',
  modules: 'list modules, the tables they read, events',
  inspect: 'print record files as JSON lines',
  verify: "check a dump's checksums and counts",
  schema: 'generate .proto files from the catalog',
  fixture: 'create the legacy fixture database',
};

/** Every subcommand, in the order `seedline --help` lists them. */
export function commands(): Command[] {
  const all = [demoCommand(), extractCommand(), transformCommand(), seedCommand(), tapCommand(), reportCommand(), capacityCommand(), backendSimCommand(), modulesCommand(), inspectCommand(), verifyCommand(), schemaCommand(), fixtureCommand()];
  for (const command of all) {
    const summary = SUMMARIES[command.name()];
    if (summary) command.summary(summary);
  }
  return all;
}
