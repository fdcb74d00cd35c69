import { Command } from 'commander';
import { EXIT } from '../common/exit-codes.ts';
import { describeModules, formatModules, moduleGraph } from './module-graph.ts';

/** `seedline modules`: the event generators, the tables they read and the events they emit. */
export function modulesCommand(): Command {
  return new Command('modules')
    .description('list the transform modules: tables read, lookups, events emitted')
    .option('--graph', 'print Graphviz dot of table → module → event type instead')
    .option('--json', 'print the list as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ seedline modules\n' +
        '  $ seedline modules --graph | dot -Tsvg > modules.svg\n',
    )
    .action((flags: { graph?: boolean; json?: boolean }) => {
      const infos = describeModules();
      if (flags.graph) process.stdout.write(moduleGraph(infos));
      else if (flags.json) process.stdout.write(`${JSON.stringify(infos, null, 2)}\n`);
      else process.stdout.write(formatModules(infos));
      process.exitCode = EXIT.OK;
    });
}
