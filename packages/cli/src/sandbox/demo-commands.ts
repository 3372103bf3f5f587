/**
 * The bridge bot's demo commands in the sandbox: harmless, and each shows one thing the bridge
 * does (a quick answer, a table, live edited output for a minute, output too big for a message,
 * an argument checked against a pattern and a job worth /stop-ping). argv arrays only, never a
 * shell; the scripted ones run this very Node binary so they work wherever the sandbox does.
 */
import type { RawConfig } from '@botvisor/core';

type DemoCommands = NonNullable<RawConfig['bots'][number]['commands']>;

/** 1, 2, … 60, one line a second. */
const COUNTER_JS = 'let i=0;const tick=()=>{console.log(++i);if(i<60)setTimeout(tick,1000)};tick()';

/** Exactly 1 MiB: 16384 numbered lines of 64 bytes. */
const BIG_OUTPUT_JS = "const l=[];for(let i=1;i<=16384;i++)l.push(String(i).padStart(6,'0')+' '+'botvisor sandbox demo output '.padEnd(56,'.'));process.stdout.write(l.join('\\n')+'\\n')";

export function demoCommands(node: string = process.execPath): DemoCommands {
  return {
    uptime: { argv: ['uptime'], description: 'how long this machine has been up, and its load' },
    df: { argv: ['df', '-h'], description: 'free disk space (df -h)' },
    counter: { argv: [node, '-e', COUNTER_JS], timeoutSec: 120, description: 'counts to 60, one line a second: live, edited output' },
    bigoutput: { argv: [node, '-e', BIG_OUTPUT_JS], description: 'prints 1 MB: too big for a message, it arrives as a file' },
    sleep: { argv: ['sleep', '{secs}'], args: { secs: '^[0-9]{1,3}$' }, description: 'sleeps for secs seconds (try /jobs and /stop meanwhile)' },
  };
}

type DemoSessions = NonNullable<RawConfig['bots'][number]['sessions']>;

/**
 * A tiny agent speaking Claude Code's stream-json: it remembers the conversation (one process per
 * chat), streams each reply in a few pieces, and reports a made-up cost, so the budget shows too.
 */
const DEMO_AGENT_JS = [
  "const out=(o)=>process.stdout.write(JSON.stringify(o)+'\\n');const said=[];",
  "require('readline').createInterface({input:process.stdin}).on('line',(l)=>{let m;try{m=JSON.parse(l)}catch{return}",
  "if(m.type!=='user')return;const text=String(m.message.content);said.push(text);const n=said.length;",
  "const parts=['Turn '+n+' of this conversation (agent pid '+process.pid+').','You said: '+JSON.stringify(text)+'.',",
  "n>1?'Before that, you said: '+JSON.stringify(said[n-2])+'.':'Send another message: I will remember this one.'];",
  "let i=0;const next=()=>{if(i<parts.length){out({type:'assistant',message:{role:'assistant',content:[{type:'text',text:parts[i++]}]}});setTimeout(next,600)}",
  "else out({type:'result',subtype:'success',is_error:false,total_cost_usd:0.01,usage:{input_tokens:50*n,output_tokens:40}})};next()})",
].join('');

export function demoSessions(node: string = process.execPath): DemoSessions {
  return {
    agent: {
      argv: [node, '-e', DEMO_AGENT_JS],
      protocol: 'stream-json',
      idleTimeoutSec: 300,
      budget: { dailyCostUsd: 0.2 },
      default: true,
      description: 'a demo agent that remembers the conversation (or just write; /new forgets, /stop ends it)',
    },
  };
}
