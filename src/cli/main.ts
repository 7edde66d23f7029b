#!/usr/bin/env node
// The operator's command line: `eventsourcing-nact run` and `eventsourcing-nact status`.
import { Command, Option } from 'commander';
import { consoleCommand } from './console';
import { run } from './run';
import { status } from './status';

const program = new Command('eventsourcing-nact')
  .description('Run and inspect event-sourced systems (settings come from the environment, as the applications read them)')
  .showHelpAfterError();

program
  .command('run')
  .description('start a runner over a system module; with --cluster, as a member of the cluster of its PostgreSQL database and schema')
  .requiredOption('--system <path>', 'the module that exports the System')
  .option('--export <name>', 'the name of its export', 'system')
  .addOption(new Option('--runner <kind>', 'the runner').choices(['multiprocess', 'actor']).default('multiprocess'))
  .addOption(new Option('--isolation <kind>', "the multiprocess runner's workers").choices(['process', 'thread']).default('process'))
  .option('--pipelines <ids>', 'the pipelines to run: 0-7, 0,2,5 or 3', '0')
  .option('--cluster', 'join the cluster over PostgreSQL (POSTGRES_URL, POSTGRES_SCHEMA)')
  .action(run);

program
  .command('status')
  .description("every process's positions, heads and lag, read from the stores; a cluster's members and slot owners")
  .requiredOption('--system <path>', 'the module that exports the System')
  .option('--export <name>', 'the name of its export', 'system')
  .option('--pipelines <ids>', 'the pipelines to show: 0-7, 0,2,5 or 3', '0')
  .option('--json', 'print JSON instead of tables')
  .action(status);

program
  .command('console')
  .description("start a runner over a system module and serve its live console (topology, processes, restart and skip) in the browser")
  .requiredOption('--system <path>', 'the module that exports the System')
  .option('--export <name>', 'the name of its export', 'system')
  .addOption(new Option('--runner <kind>', 'the runner').choices(['multiprocess', 'actor']).default('multiprocess'))
  .option('--pipelines <ids>', 'the pipelines to run: 0-7, 0,2,5 or 3', '0')
  .option('--port <port>', 'the port to listen on (0: any free one)', '0')
  .option('--host <address>', 'the address to bind', '127.0.0.1')
  .option('--token <secret>', 'the secret restart and skip need (default: a random one, in the printed address)')
  .option('--no-token', 'serve a read-only console (restart and skip refused)')
  .action(consoleCommand);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`eventsourcing-nact: ${(error as Error).message}`);
  process.exitCode = 1;
});
