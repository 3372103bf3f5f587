// The soak's verdict: each invariant as a function returning { name, ok, detail }, plus the
// counts, computed from what the soak recorded (injected updates, kills, corruptions), what the
// bots recorded (handled updates), the sim's stats and the files under data/ and logs/.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

function walkFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walkFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Every JSON log line under `logDir` ({ file, level, msg, raw }). */
export function readLogLines(logDir) {
  const lines = [];
  for (const file of walkFiles(logDir)) {
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      if (!raw.startsWith('{')) continue;
      try {
        const o = JSON.parse(raw);
        lines.push({ file, level: String(o.level ?? ''), msg: String(o.msg ?? o.message ?? ''), o, raw });
      } catch {}
    }
  }
  return lines;
}

/** Handled-update records of one bot: Map update id → [{ redelivered, pid }]. */
export function readRecords(recordDir, bot) {
  const byId = new Map();
  const file = path.join(recordDir, `${bot}.jsonl`);
  if (!existsSync(file)) return byId;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line);
    if (!byId.has(r.id)) byId.set(r.id, []);
    byId.get(r.id).push(r);
  }
  return byId;
}

/** Every accepted update handled exactly once, or with every repeat marked redelivered. */
export function checkExactlyOnce({ accepted, recordDir, logLines, lostToCorruption, pendingAtEnd }) {
  const quarantined = new Set(logLines.filter((l) => /poison update/.test(l.msg)).map((l) => `${path.basename(l.file).split(/[-.]/)[0]}:${l.o.updateId}`));
  const tally = { once: 0, redelivered: 0, quarantined: 0, lostToCorruption: 0, lost: 0, duplicated: 0 };
  const bad = [];
  const records = new Map();
  for (const { bot, id } of accepted) {
    if (!records.has(bot)) records.set(bot, readRecords(recordDir, bot));
    const rs = records.get(bot).get(id) ?? [];
    const fresh = rs.filter((r) => !r.redelivered).length;
    const key = `${bot}:${id}`;
    if (rs.length === 1 && fresh === 1) tally.once++;
    else if (rs.length >= 1 && fresh <= 1) tally.redelivered++;
    else if (rs.length === 0 && quarantined.has(key)) tally.quarantined++;
    else if (lostToCorruption.has(key)) tally.lostToCorruption++;
    else if (rs.length === 0) {
      tally.lost++;
      bad.push(`${key} never handled`);
    } else {
      tally.duplicated++;
      bad.push(`${key} handled ${fresh}× without the redelivered mark`);
    }
  }
  const ok = bad.length === 0 && pendingAtEnd === 0 && accepted.length > 0;
  const detail = `${accepted.length} accepted: ${tally.once} once, ${tally.redelivered} redelivered, ${tally.quarantined} quarantined, ${tally.lostToCorruption} lost with a corrupted inbox, ${tally.lost} lost, ${tally.duplicated} duplicated; ${pendingAtEnd} still unconfirmed in the sim${bad.length > 0 ? `; e.g. ${bad.slice(0, 3).join('; ')}` : ''}`;
  return { name: 'every accepted update handled exactly once (or redelivered)', ok, detail, tally };
}

/** Nothing of any run alive beyond the current supervisor's tree, and nothing at all after the final stop. */
export function checkNoLeftovers({ strayBeforeStop, aliveAfterStop, currentTreeSize }) {
  const fmt = (ps) => ps.map((p) => `${p.pid} ${p.command}`).join(', ');
  const ok = strayBeforeStop.length === 0 && aliveAfterStop.length === 0;
  const detail = `before the final stop: ${currentTreeSize} in the current tree, ${strayBeforeStop.length} outside it${strayBeforeStop.length > 0 ? ` (${fmt(strayBeforeStop)})` : ''}; after it: ${aliveAfterStop.length} alive${aliveAfterStop.length > 0 ? ` (${fmt(aliveAfterStop)})` : ''}`;
  return { name: 'no process of any run left beyond the current tree', ok, detail };
}

/** The sim's pending pollers per token, outside the rogue poller's episodes. */
export function checkSinglePoller({ maxUnderSupervisor, simMax }) {
  const worst = Math.max(...Object.values(maxUnderSupervisor));
  const detail = Object.entries(maxUnderSupervisor)
    .map(([bot, n]) => `${bot}: ${n} (with rogue: ${simMax[bot]})`)
    .join(', ');
  return { name: 'max pending pollers per token ≤ 1 under the supervisor', ok: worst <= 1, detail };
}

/** Every JSON file under data/ parses; every corruption was moved aside and logged at ERROR. */
export function checkStateFiles({ dataDir, corruptions, logLines }) {
  const unparsable = [];
  let parsed = 0;
  for (const file of walkFiles(dataDir)) {
    if (!file.endsWith('.json') || /\.corrupt-/.test(file)) continue;
    try {
      JSON.parse(readFileSync(file, 'utf8'));
      parsed++;
    } catch {
      unparsable.push(path.relative(dataDir, file));
    }
  }
  const errors = logLines.filter((l) => /error/i.test(l.level) && /store file was corrupt/.test(l.msg));
  const unrecovered = [];
  for (const c of corruptions) {
    const dir = path.dirname(c.file);
    const copies = readdirSync(dir).filter((f) => f.startsWith(`${path.basename(c.file)}.corrupt-`) && statSync(path.join(dir, f)).mtimeMs >= c.at - 1000);
    const logged = errors.some((l) => l.o.file === c.file && Date.parse(l.o.time ?? l.o.timestamp ?? l.o.ts ?? 0) >= c.at - 1000);
    if (copies.length === 0 || !logged) unrecovered.push(`${path.relative(dataDir, c.file)} (${c.how}): ${copies.length === 0 ? 'no corrupt copy' : ''}${!logged ? ' no ERROR' : ''}`);
  }
  const restored = errors.filter((l) => /restored/.test(l.msg)).length;
  const reset = errors.filter((l) => /started from defaults/.test(l.msg)).length;
  const ok = unparsable.length === 0 && unrecovered.length === 0;
  const detail = `${parsed} JSON files parse${unparsable.length > 0 ? `, ${unparsable.length} do not (${unparsable.join(', ')})` : ''}; ${corruptions.length} corrupted: ${restored} restored from a backup, ${reset} reset to defaults (ERROR each)${unrecovered.length > 0 ? `; not recovered: ${unrecovered.join('; ')}` : ''}`;
  return { name: 'every state file parses; every corruption restored or reset with an ERROR', ok, detail };
}

/** No token (nor its secret half) in any file under logs/. */
export function checkNoTokensInLogs({ logDir, tokens }) {
  const hits = [];
  const files = walkFiles(logDir);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const token of tokens) {
      if (text.includes(token) || text.includes(token.split(':')[1])) hits.push(path.relative(logDir, file));
    }
  }
  return { name: 'no bot token anywhere under logs/', ok: hits.length === 0, detail: `${files.length} files searched${hits.length > 0 ? `; token found in ${[...new Set(hits)].join(', ')}` : ''}` };
}

/** Restarts and reaped orphans, from the supervisor logs of every run. */
export function countFromLogs(logLines) {
  let restarts = 0;
  let reaped = 0;
  for (const l of logLines) {
    if (/^bot \S+ restarted/.test(l.msg)) restarts++;
    const m = /^reaped (\d+) process/.exec(l.msg);
    if (m) reaped += Number(m[1]);
  }
  return { restarts, reaped };
}

/** Prints rows (first = header) as aligned columns. */
export function printTable(rows, log = console.log) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  for (const row of rows) log(`| ${row.map((cell, c) => String(cell ?? '').padEnd(widths[c])).join(' | ')} |`);
}
