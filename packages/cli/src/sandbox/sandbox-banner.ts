/**
 * The text the sandbox prints once its bots are up: what runs where, how to talk to the bot, how
 * to run a real bot instead, and how to stop. Pure text from facts the caller gathered.
 */

export interface BannerFacts {
  simUrl: string;
  /** The dashboard; null when HTTP is off. */
  httpUrl: string | null;
  bots: Array<{ name: string; kind: string; state: string }>;
  /** The sandbox folder, as the user should read it (relative to the cwd when inside it). */
  dir: string;
  /** The command that opens the terminal chat, env prefix included when one is needed. */
  chatCommand: string;
}

const ROLE: Record<string, string> = {
  bridge: 'runs demo commands for you',
  alerts: 'tells your chat when a bot crashes or restarts',
};

export function sandboxBanner(f: BannerFacts): string {
  const nameWidth = Math.max(...f.bots.map((b) => b.name.length));
  const stateWidth = Math.max(...f.bots.map((b) => b.state.length));
  const bots = f.bots.map((b, i) => `${i === 0 ? '  bots       ' : '             '}${b.name.padEnd(nameWidth)}  ${b.state.padEnd(stateWidth)}  ${ROLE[b.kind] ?? ''}`.trimEnd());
  const rule = '─'.repeat(66);
  return [
    rule,
    '  botvisor sandbox: a bot fleet on this machine, no Telegram needed',
    rule,
    `  Bot API    ${f.simUrl}  (a local stand-in for Telegram)`,
    ...bots,
    `  dashboard  ${f.httpUrl === null ? '(HTTP is off)' : `${f.httpUrl}/`}`,
    `  files      ${f.dir}  (config, data, logs)`,
    '',
    '  Talk to the bridge bot as a simulated user:',
    `    ${f.chatCommand}    in another terminal`,
    `    or the chat panel of the dashboard${f.httpUrl === null ? '' : ` (${f.httpUrl}/)`}`,
    '  Send /help, then try /uptime, /df, /counter (a minute of live output),',
    '  /bigoutput (1 MB of output), /sleep 30 with /jobs and /stop.',
    '',
    '  Meanwhile: npx botvisor status, npx botvisor logs bridge',
    '  A real bot: put its token in botvisor.json (see the README), then',
    '    npm start -- -c botvisor.json',
    '',
    '  Ctrl-C stops everything.',
    rule,
  ].join('\n');
}
