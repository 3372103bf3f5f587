/**
 * Where the sandbox's simulator starts numbering updates. A simulator starts from 1 each time,
 * while the bots' inboxes keep the offset of the last run; so the second `npm start` starts the
 * simulator at the highest offset a bot stored, and hands out only ids the bots have not seen.
 * (The runtime copes with ids that go back too, as a new id epoch, but with a WARNING — a clean
 * restart should not need one.) Reads only the `offset` fields of each `<dataDir>/bots/<name>/
 * inbox.json` and of its journal beside it (`inbox.json.journal.<n>.jsonl`, where a bot that was
 * killed left its latest offsets); a file or line it cannot read counts as none: the runtime
 * recovers it, and copes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

function offsetIn(json: string): number | undefined {
  try {
    const offset = (JSON.parse(json) as { offset?: unknown }).offset;
    return typeof offset === 'number' && Number.isSafeInteger(offset) && offset > 0 ? offset : undefined;
  } catch {
    return undefined;
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The highest offset stored in a bot's folder: its inbox snapshot or a journal record of an accepted batch. */
function storedOffset(botDir: string): number | undefined {
  const offsets = [offsetIn(readOrEmpty(path.join(botDir, 'inbox.json')))];
  let names: string[] = [];
  try {
    names = readdirSync(botDir).filter((name) => /^inbox\.json\.journal\.\d+\.jsonl$/.test(name));
  } catch {}
  for (const name of names) for (const line of readOrEmpty(path.join(botDir, name)).split('\n')) if (line.includes('"offset"')) offsets.push(offsetIn(line));
  const found = offsets.filter((o): o is number => o !== undefined);
  return found.length === 0 ? undefined : Math.max(...found);
}

/** The first update id for a simulator serving the bots whose data is in `dataDir`: at least 1. */
export function firstUpdateIdFor(dataDir: string): number {
  const botsDir = path.join(dataDir, 'bots');
  let names: string[];
  try {
    names = readdirSync(botsDir);
  } catch {
    return 1; // a first start: no bot has stored anything
  }
  return Math.max(1, ...names.map((name) => storedOffset(path.join(botsDir, name)) ?? 1));
}
