// The `slo` command line. The only module that ends the process: everything else throws SloErrors, and
// this file turns them into one line on stderr and a documented exit code (docs/ERRORS.md).
import { Command, CommanderError, Option } from 'commander';
import { errors, isSloError } from '../contract/errors.ts';
import { HARNESS_VERSION } from './version.ts';
import type { CommonOptions } from './commands/options.ts';

const clusterOption = () => new Option('--cluster <name>', 'target: local (a real single-node Kubernetes built and run here; root), kind, kube (an existing context), or url (a service already running at --set serviceUrl=..., no cluster)').default('local');
const configOption = () => new Option('--config <file>', 'SLO spec (slo.yaml); the built-in defaults when absent');
const profileOption = () => new Option('--profile <name>', 'quick (minutes, for CI) or full (nightly)').default('quick');
const outOption = () => new Option('--out <dir>', 'folder for run folders').default('runs');
const engineOption = () => new Option('--engine <name>', 'load engine: embedded (built here, the default) or k6 (your own k6 v1.x on PATH); overrides the spec\'s load.engine');
const quietOption = () => new Option('--quiet', 'no live progress; one machine-readable line at the end (default when CI is set)');

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('slo')
    .description('Does this service keep its SLOs under growth, a 10x spike, sustained load, a database failover and a rolling deploy?')
    .version(HARNESS_VERSION)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });

  program
    .command('run')
    .description('bring the target up, drive load, inject faults, verify the SLOs, write reports, tear down')
    .addOption(clusterOption())
    .addOption(configOption())
    .addOption(profileOption())
    .addOption(outOption())
    .addOption(quietOption())
    .option('--app <command>', 'local/embedded only: command that starts your own service in pods (told its port through PORT)')
    .option('--steps <names>', 'comma-separated subset of the suite\'s steps to run')
    .addOption(engineOption())
    .option('--scenario <file>', 'your own scenario module, or a *.k6.ts script with --engine k6, run in place of each step\'s scenario')
    .option('--runners <n>', 'drive each step from N pods of the embedded engine (an Indexed Job in the target cluster, each 1/N of the rate); overrides the spec\'s load.runners (1: in process)')
    .option('--baseline <run-dir>', 'compare with an earlier run and flag regressions')
    .option('--set <key=value...>', 'adapter settings, e.g. context=staging namespace=shop')
    .action(async (options: CommonOptions) => {
      const { runCommand } = await import('./commands/run.ts');
      setExit(await runCommand(options));
    });

  program
    .command('up')
    .description('bring the target up and leave it running until Ctrl-C (then `slo down` is not needed)')
    .addOption(clusterOption())
    .addOption(configOption())
    .addOption(outOption())
    .option('--app <command>', 'local/embedded only: command that starts your own service in pods')
    .option('--set <key=value...>', 'adapter settings')
    .action(async (options: CommonOptions) => {
      const { upCommand } = await import('./commands/up.ts');
      setExit(await upCommand(options));
    });

  program
    .command('down')
    .description('tear down what an earlier `slo up` or a crashed run left behind in a run folder')
    .argument('<run-dir>', 'the run folder')
    .action(async (runDir: string) => {
      const { downCommand } = await import('./commands/up.ts');
      setExit(await downCommand(runDir));
    });

  program
    .command('verify')
    .description('judge a stored run again (e.g. against a changed spec) and rewrite its reports')
    .argument('<run-dir>', 'the run folder')
    .addOption(configOption())
    .option('--baseline <run-dir>', 'compare with an earlier run and flag regressions')
    .addOption(quietOption())
    .action(async (runDir: string, options: CommonOptions) => {
      const { verifyCommand } = await import('./commands/verify.ts');
      setExit(await verifyCommand(runDir, options));
    });

  program
    .command('report')
    .description('write the reports of a stored run (JSON, JUnit, Markdown, HTML) without changing its verdicts\' spec')
    .argument('<run-dir>', 'the run folder')
    .option('--baseline <run-dir>', 'compare with an earlier run and flag regressions')
    .addOption(quietOption())
    .action(async (runDir: string, options: CommonOptions) => {
      const { verifyCommand } = await import('./commands/verify.ts');
      setExit(await verifyCommand(runDir, options));
    });

  program
    .command('capacity')
    .description('find the highest arrival rate at which the latency and error SLOs still hold')
    .addOption(clusterOption())
    .addOption(configOption())
    .addOption(profileOption())
    .addOption(outOption())
    .addOption(quietOption())
    .option('--app <command>', 'local/embedded only: command that starts your own service in pods')
    .addOption(engineOption())
    .option('--from <rate>', 'lowest rate tried (requests/s)', '20')
    .option('--to <rate>', 'highest rate tried (requests/s)', '400')
    .option('--step-seconds <s>', 'seconds of load at each rate', '15')
    .option('--set <key=value...>', 'adapter settings')
    .action(async (options: CommonOptions) => {
      const { capacityCommand } = await import('./commands/capacity.ts');
      setExit(await capacityCommand(options));
    });

  return program;
}

function usageLine(error: CommanderError): string {
  const message = error.message.replace(/^error: /, '');
  return `SLO_ERR_CLI_USAGE: ${message} (see \`slo --help\`)`;
}

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => { exitCode = code; });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) return 0;
      process.stderr.write(usageLine(error) + '\n');
      return 2;
    }
    if (isSloError(error)) {
      process.stderr.write(error.oneLine() + '\n');
      return error.exitCode;
    }
    // Not one of ours: still one line, with the stack only when asked for, since this is a harness bug.
    const detail = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${errors.SLO_ERR_INTERNAL.code}: ${detail} (a bug in slo-harness; rerun with SLO_DEBUG=1 for the stack)\n`);
    if (process.env['SLO_DEBUG'] && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    return 3;
  }
}

// Exit explicitly: a lingering handle in a library (a keep-alive socket, a pool timer) must not keep a
// finished CI job waiting.
process.exit(await main(process.argv));
