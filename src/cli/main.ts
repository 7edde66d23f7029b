#!/usr/bin/env node
// The operator's command line: run, status, console, skip, events, reset and rebuild.
import { Command, Option } from 'commander';
import { consoleCommand } from './console';
import { integerAtLeast, nonBlank, pipelineList } from './applications';
import { events } from './events';
import { rebuild, reset } from './projections';
import { run } from './run';
import { skip } from './skip';
import { status } from './status';

/** Every command names the module that exports its System, and the export. */
const systemOption = () => new Option('--system <path>', 'the module that exports the System').makeOptionMandatory();
const exportOption = () => new Option('--export <name>', 'the name of its export').default('system');

const program = new Command('eventsourcing-nact')
  .description('Run and inspect event-sourced systems (settings come from the environment, as the applications read them)')
  .showHelpAfterError();

program
  .command('run')
  .description('start a runner over a system module; with --cluster, as a member of the cluster of its PostgreSQL database and schema')
  .addOption(systemOption())
  .addOption(exportOption())
  .addOption(new Option('--runner <kind>', 'the runner').choices(['multiprocess', 'actor']).default('multiprocess'))
  .addOption(new Option('--isolation <kind>', "the multiprocess runner's workers").choices(['process', 'thread']).default('process'))
  .option('--pipelines <ids>', 'the pipelines to run: 0-7, 0,2,5 or 3', pipelineList, '0')
  .option('--cluster', 'join the cluster over PostgreSQL (POSTGRES_URL, POSTGRES_SCHEMA)')
  .action(run);

program
  .command('status')
  .description("every process's positions, heads and lag, read from the stores; a cluster's members and slot owners")
  .addOption(systemOption())
  .addOption(exportOption())
  .option('--pipelines <ids>', 'the pipelines to show: 0-7, 0,2,5 or 3', pipelineList, '0')
  .option('--json', 'print JSON instead of tables')
  .action(status);

program
  .command('console')
  .description("start a runner over a system module and serve its live console (topology, processes, restart and skip) in the browser")
  .addOption(systemOption())
  .addOption(exportOption())
  .addOption(new Option('--runner <kind>', 'the runner').choices(['multiprocess', 'actor']).default('multiprocess'))
  .option('--pipelines <ids>', 'the pipelines to run: 0-7, 0,2,5 or 3', pipelineList, '0')
  .option('--port <port>', 'the port to listen on (0: any free one)', '0')
  .option('--host <address>', 'the address to bind', '127.0.0.1')
  .option('--token <secret>', 'the secret restart and skip need (default: a random one, in the printed address)')
  .option('--no-token', 'serve a read-only console (restart and skip refused)')
  .action(consoleCommand);

program
  .command('skip <app>')
  .description("move the process application <app> past one failing notification without processing it, recording a SkippedNotification with the reason (refused, writing nothing, unless it is the next one)")
  .addOption(systemOption())
  .addOption(exportOption())
  .option('--upstream <name>', 'the application whose notification it is (needed when <app> follows several)')
  .requiredOption('--pipeline <n>', 'the pipeline', integerAtLeast(0))
  .requiredOption('--notification <id>', 'the id of the notification to skip', integerAtLeast(1))
  .requiredOption('--reason <text>', 'why (recorded with the skip)', nonBlank)
  .action(skip);

program
  .command('events <app>')
  .description("the notification log of <app>, its events decoded, as JSON lines (EVENTS_POLL_MS: how often --follow looks, default 200)")
  .addOption(systemOption())
  .addOption(exportOption())
  .option('--from <id>', 'the first notification id to print', integerAtLeast(1), 1)
  .option('--limit <n>', 'print at most this many', integerAtLeast(1))
  .option('--pipeline <n>', "only this pipeline's notifications (default: every pipeline's)", integerAtLeast(0))
  .option('--follow', 'keep printing new notifications until SIGINT or SIGTERM')
  .action(events);

program
  .command('reset <projection>')
  .description("clear a projection's view and its tracking (for development): it processes its logs again from the beginning, wherever it runs")
  .addOption(systemOption())
  .addOption(exportOption())
  .option('--yes', 'yes, clear it')
  .action(reset);

program
  .command('rebuild <projection>')
  .description("build a new generation of a projection's view from the start of its logs beside the live one, then switch readers to it atomically (a progress bar on stderr; interrupted, the next rebuild carries on)")
  .addOption(systemOption())
  .addOption(exportOption())
  .option('--pipelines <ids>', 'the pipelines to rebuild from, besides those its tracking names: 0-7, 0,2,5 or 3', pipelineList, '0')
  .option('--batch-size <n>', 'notifications applied per transaction', integerAtLeast(1), 1000)
  .action(rebuild);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`eventsourcing-nact: ${(error as Error).message}`);
  process.exitCode = 1;
});
