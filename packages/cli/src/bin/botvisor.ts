#!/usr/bin/env node
import type { ControlConfig } from '@botvisor/core';
/**
 * The `botvisor` command. Each subcommand finds the installation's config the same way (-c,
 * $BOTVISOR_CONFIG, ./botvisor.json, the sandbox) and is a thin client of the supervisor's
 * control socket — except `start`, which runs the supervisor (or, with no config at all, the
 * offline sandbox), and `chat`, which talks to the sandbox's simulator. Errors are one sentence
 * with the fix, and an exit code from exit-codes.ts.
 */
import { Command, CommanderError } from 'commander';
import { type FoundConfig, findUserConfigFile, loadFoundConfig, loadFoundControlConfig, setSandboxProvider } from '../config-lookup.js';
import { CliError, EXIT } from '../exit-codes.js';
import { existingSandboxConfig } from '../sandbox/sandbox-lookup.js';
import { VERSION } from '../version.js';

// The lookup's last step: a sandbox's generated config, so status/stop/logs find a running sandbox.
setSandboxProvider(() => existingSandboxConfig());

const out = (s: string): void => void process.stdout.write(`${s}\n`);

// Each command's module is imported when the command runs: `botvisor start`, which hosts the
// supervisor for as long as the fleet runs, carries no other command's code (issue 18, idle RSS),
// and a quick `botvisor status` does not load the supervisor.

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new CliError(`${name} must be a whole number of at least 0, got "${value}"`, EXIT.usage);
    return n;
  };
}

/** Loads the config (no secret read) and runs a control command; "not running" for the sandbox's config says how to start the sandbox. */
function withConfig(explicit: string | undefined, action: (found: FoundConfig<ControlConfig>) => Promise<number> | number): () => Promise<number> {
  return async () => {
    const found = loadFoundControlConfig(explicit);
    try {
      return await action(found);
    } catch (err) {
      if (found.via === 'sandbox' && err instanceof CliError && err.exitCode === EXIT.notRunning) {
        throw new CliError(`the sandbox (${found.file}) is not running; start it with: npm start (or botvisor start with no config)`, EXIT.notRunning);
      }
      throw err;
    }
  };
}

async function run(action: () => Promise<number> | number): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`botvisor: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`botvisor: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT.failed;
  }
}

const program = new Command('botvisor')
  .description('Runs a fleet of Telegram bots 24/7: one poller per token, no orphaned CLI processes, no corrupted state.')
  .version(VERSION, '-V, --version', 'print the version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('start')
  .description('start the supervisor and every bot (foreground; --detach to return once all bots are ready); or start one stopped bot in the running supervisor')
  .argument('[bot]', 'start only this bot, in the supervisor already running (after botvisor stop <bot>)')
  .option('-c, --config <file>', 'config file (else $BOTVISOR_CONFIG, ./botvisor.json, the sandbox)')
  .option('-d, --detach', 'run in the background; return when every bot is ready, or say which failed')
  .option('--wait <ms>', 'with --detach: how long to wait for ready', positiveInt('--wait'), 120_000)
  .action((bot: string | undefined, o: { config?: string; detach?: boolean; wait: number }) =>
    run(async () => {
      if (bot !== undefined) {
        if (o.detach === true) throw new CliError(`start ${bot} starts one bot in the running supervisor; --detach is for starting the supervisor (botvisor start --detach)`, EXIT.usage);
        return withConfig(o.config, async (found) => (await import('../commands/one-bot.js')).startBotCommand(found, bot, out))();
      }
      if (findUserConfigFile(o.config) === undefined) {
        // No config anywhere: the offline sandbox, which runs its simulator in this very process.
        if (o.detach === true) throw new CliError('the sandbox runs in the foreground only: run botvisor start without --detach, or pass -c FILE for your own config', EXIT.usage);
        return (await import('../sandbox/run-sandbox.js')).runSandbox(out);
      }
      const found = loadFoundConfig(o.config);
      const start = await import('../commands/start.js');
      return o.detach === true ? start.startDetached(found, o.wait, out) : start.startForeground(found, out);
    }),
  );

program
  .command('stop')
  .description('stop the supervisor gracefully, then kill what is left after the timeout (exit 0 when nothing runs); or stop one bot, which stays stopped until botvisor start <bot>')
  .argument('[bot]', 'stop only this bot; the others keep running')
  .option('-c, --config <file>', 'config file')
  .option('--timeout <ms>', 'graceful stop time before the tree kill', positiveInt('--timeout'), 30_000)
  .action((bot: string | undefined, o: { config?: string; timeout: number }) =>
    run(withConfig(o.config, async (found) => (bot !== undefined ? (await import('../commands/one-bot.js')).stopBotCommand(found, bot, out) : (await import('../commands/stop.js')).stopCommand(found, o.timeout, out)))),
  );

program
  .command('status')
  .description('show every bot: state, pid, uptime, restarts, cpu and memory of its tree, jobs, polling, last exit; and the locks')
  .option('-c, --config <file>', 'config file')
  .option('--json', 'print the status as JSON (the contract in docs/architecture.md)')
  .action((o: { config?: string; json?: boolean }) => run(withConfig(o.config, async (found) => (await import('../commands/status.js')).statusCommand(found, o.json === true, out))));

program
  .command('restart')
  .description('restart one bot (or all): stop its tree, clear its crash history, start it again')
  .argument('<bot>', 'bot name, or "all"')
  .option('-c, --config <file>', 'config file')
  .action((bot: string, o: { config?: string }) => run(withConfig(o.config, async (found) => (await import('../commands/restart.js')).restartCommand(found, bot, out))));

program
  .command('reload')
  .description('re-read the config and apply it: start added bots, stop removed ones, hand changed ones (config or code) over to a new process without losing an update; the same as SIGHUP')
  .argument('[bot]', 'bot name, or "all"', 'all')
  .option('-c, --config <file>', 'config file')
  .action((bot: string, o: { config?: string }) => run(withConfig(o.config, async (found) => (await import('../commands/reload.js')).reloadCommand(found, bot, out))));

program
  .command('logs')
  .description('print the logs of the supervisor and every bot merged by time, as readable lines; or one bot\'s')
  .argument('[bot]', "only this bot's lines (same as --bot)")
  .option('-c, --config <file>', 'config file')
  .option('--bot <name>', "only this bot's lines: its log, its output, the supervisor's lines about it (repeat for more bots)", (v: string, all: string[]) => [...all, v], [] as string[])
  .option('-n, --lines <n>', 'how many of the last lines', positiveInt('--lines'), 50)
  .option('-f, --follow', 'keep printing new lines')
  .action((bot: string | undefined, o: { config?: string; bot: string[]; lines: number; follow?: boolean }) =>
    run(withConfig(o.config, async (found) => (await import('../commands/logs.js')).logsCommand(found, { bots: [...new Set([...(bot !== undefined ? [bot] : []), ...o.bot])] }, o.lines, o.follow === true, out))),
  );

program
  .command('describe')
  .description('everything about one bot: module, config, log files, state history, restarts, last exit and output, lock holder, jobs, problem')
  .argument('<bot>', 'bot name')
  .option('-c, --config <file>', 'config file')
  .option('--json', 'print it as JSON')
  .action((bot: string, o: { config?: string; json?: boolean }) => run(withConfig(o.config, async (found) => (await import('../commands/describe.js')).describeCommand(found, bot, o.json === true, out))));

program
  .command('dashboard')
  .description('print a one-time link that opens the dashboard with its actions (restart, stop a job, logs)')
  .option('-c, --config <file>', 'config file')
  .action((o: { config?: string }) => run(withConfig(o.config, async (found) => (await import('../commands/dashboard.js')).dashboardCommand(found, out))));

program
  .command('chat')
  .description("talk to the sandbox's bot in this terminal, as its simulated user (a /command, a message, :N taps a button)")
  .option('--sim <url>', "the simulator's URL (default: the running sandbox's)")
  .option('--token <token>', "the bot's token (default: the sandbox bot's)")
  .option('--user <id>', "the simulated user id (default: the sandbox's user, else the simulator's default user 100001)", positiveInt('--user'))
  .action((o: { sim?: string; token?: string; user?: number }) => run(async () => (await import('../commands/chat.js')).chatCommand(o)));

program
  .command('doctor')
  .description('check the config, token files, locks, orphans, webhooks, data dir and disk')
  .option('-c, --config <file>', 'config file')
  .action((o: { config?: string }) => run(async () => (await import('../commands/doctor.js')).doctorCommand(o.config, out)));

program
  .command('startup')
  .description('print (or --install, --uninstall) a systemd unit or launchd plist that runs botvisor at boot')
  .argument('[manager]', "systemd or launchd; the machine's own when omitted")
  .option('-c, --config <file>', 'config file')
  .option('--install', 'write it where the service manager looks, and print the command that enables it')
  .option('--uninstall', 'remove what --install wrote, and print the command that stops it')
  .option('--user <name>', 'the account a system unit runs as (User=, Group=); default: you (the user behind sudo)')
  .option('--dir <folder>', 'with --install or --uninstall: this folder instead of where the service manager looks (an image built offline)')
  .action((manager: string | undefined, o: { config?: string; install?: boolean; uninstall?: boolean; user?: string; dir?: string }) =>
    run(async () =>
      (await import('../commands/startup.js')).startupCommand(
        loadFoundControlConfig(o.config),
        manager,
        { install: o.install === true, uninstall: o.uninstall === true, ...(o.user !== undefined ? { user: o.user } : {}), ...(o.dir !== undefined ? { dir: o.dir } : {}) },
        out,
      ),
    ),
  );

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.usage;
  } else if (err instanceof CliError) {
    // thrown while parsing an option value
    process.stderr.write(`botvisor: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    throw err;
  }
}
