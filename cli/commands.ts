import { Command } from 'commander';

/**
 * Every subcommand, in the order `seedline --help` lists them, each loaded only when it runs:
 * a stage's command file pulls in its drivers and protobuf code (pg, amqplib, protobufjs,
 * mssql), and `seedline --version`, `--help` or another stage should not pay for them.
 */
interface CommandEntry {
  readonly name: string;
  /**
   * One short line for `seedline --help`'s list (each command's own --help keeps its full
   * description), short enough not to wrap at 80 columns: long, wrapped paragraphs are hard to scan.
   */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'demo', summary: 'fixture → extract → transform → seed, no setup', load: async () => (await import('../demo/cli.ts')).demoCommand() },
  { name: 'extract', summary: 'dump tables to gzipped protobuf record files', load: async () => (await import('../extractor/cli.ts')).extractCommand() },
  { name: 'transform', summary: 'turn a dump into one time-ordered event stream', load: async () => (await import('../transformer/cli.ts')).transformCommand() },
  { name: 'seed', summary: 'replay events into RabbitMQ at a chosen rate', load: async () => (await import('../seeder/cli.ts')).seedCommand() },
  { name: 'tap', summary: 'check every event arrived on the exchange', load: async () => (await import('../seeder/tap/tap-cli.ts')).tapCommand() },
  { name: 'report', summary: 'render a seed run report as an HTML page', load: async () => (await import('../seeder/report/report-cli.ts')).reportCommand() },
  { name: 'capacity', summary: 'find the highest rate the backend sustains', load: async () => (await import('../seeder/backlog/capacity-cli.ts')).capacityCommand() },
  { name: 'backend-sim', summary: 'a stand-in backend: module queues at set speeds', load: async () => (await import('../seeder/backlog/backend-sim-cli.ts')).backendSimCommand() },
  { name: 'ledger', summary: 'is every legacy row accounted for?', load: async () => (await import('../ledger/ledger-cli.ts')).ledgerCommand() },
  { name: 'trace', summary: 'follow one legacy row to its events', load: async () => (await import('../ledger/trace-cli.ts')).traceCommand() },
  { name: 'modules', summary: 'list modules, the tables they read, events', load: async () => (await import('../transformer/modules-cli.ts')).modulesCommand() },
  { name: 'inspect', summary: 'print record files as JSON lines', load: async () => (await import('../transformer/inspect-cli.ts')).inspectCommand() },
  { name: 'verify', summary: "check a dump's checksums and counts", load: async () => (await import('../extractor/verify-cli.ts')).verifyCommand() },
  { name: 'schema', summary: 'generate .proto files from the catalog', load: async () => (await import('../extractor/schema-cli.ts')).schemaCommand() },
  { name: 'fixture', summary: 'create the legacy fixture database', load: async () => (await import('../fixtures/cli.ts')).fixtureCommand() },
];

/**
 * The commands for one run: the one that `argv` names (or asks help for) fully loaded, the
 * others as name and summary only, which is all `seedline --help` shows of them.
 */
export async function commandsFor(argv: readonly string[]): Promise<Command[]> {
  const wanted = namedCommand(argv);
  return Promise.all(
    COMMANDS.map(async (entry) => {
      const command = entry.name === wanted ? await entry.load() : new Command(entry.name);
      return command.summary(entry.summary);
    }),
  );
}

/** The subcommand argv names: the first word that is not a global option (`help X` names X). */
function namedCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((arg) => !arg.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
