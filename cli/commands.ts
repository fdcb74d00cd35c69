import type { Command } from 'commander';
import { demoCommand } from '../demo/cli.ts';
import { extractCommand } from '../extractor/cli.ts';
import { fixtureCommand } from '../fixtures/cli.ts';
import { schemaCommand } from '../extractor/schema-cli.ts';
import { verifyCommand } from '../extractor/verify-cli.ts';
import { reportCommand } from '../seeder/report-cli.ts';
import { seedCommand } from '../seeder/cli.ts';
import { tapCommand } from '../seeder/tap-cli.ts';
import { inspectCommand } from '../transformer/inspect-cli.ts';
import { modulesCommand } from '../transformer/modules-cli.ts';
import { transformCommand } from '../transformer/cli.ts';

/** Every subcommand, in the order `seedline --help` lists them. */
export function commands(): Command[] {
  return [demoCommand(), extractCommand(), transformCommand(), seedCommand(), tapCommand(), reportCommand(), modulesCommand(), inspectCommand(), verifyCommand(), schemaCommand(), fixtureCommand()];
}
