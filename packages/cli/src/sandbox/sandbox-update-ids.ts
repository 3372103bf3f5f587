/**
 * Where the sandbox's simulator starts numbering updates. A simulator starts from 1 each time,
 * while the bots' inboxes keep the offset of the last run; so the second `npm start` starts the
 * simulator at the highest offset a bot stored, and hands out only ids the bots have not seen.
 * (The runtime copes with ids that go back too, as a new id epoch, but with a WARNING — a clean
 * restart should not need one.) Reads only the `offset` field of each `<dataDir>/bots/<name>/
 * inbox.json`; a file it cannot read counts as none: the runtime recovers it, and copes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

function storedOffset(file: string): number | undefined {
  try {
    const offset = (JSON.parse(readFileSync(file, 'utf8')) as { offset?: unknown }).offset;
    return typeof offset === 'number' && Number.isSafeInteger(offset) && offset > 0 ? offset : undefined;
  } catch {
    return undefined;
  }
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
  return Math.max(1, ...names.map((name) => storedOffset(path.join(botsDir, name, 'inbox.json')) ?? 1));
}
