/**
 * Splitting a long text written in `parse_mode` markup (HTML, Markdown, MarkdownV2) so that every
 * part still parses: cuts go on paragraph, then line, then space boundaries outside any markup
 * (an open `<b>…</b>`, a ``` code block, an inline `code`, an `&amp;` reference, a `\` escape).
 * When a single element is longer than a part (a huge `<pre>`), it is closed at the end of one
 * part and opened again at the start of the next. Lengths are counted on the source, which is
 * never shorter than what Telegram displays, so each part is within the limit once parsed.
 *
 * Known limit: in Markdown, bold/italic markers that span lines are not tracked; split such a
 * text yourself or send it with entities (split-text.ts handles those exactly).
 */

interface OpenElement {
  open: string;
  close: string;
}

interface MarkupScan {
  /** Per position (a cut before index i): 0 free, 1 inside an element that can be closed and reopened, 2 never. */
  state: Uint8Array;
  /** The elements open at a position (for a forced cut). */
  openAt(position: number): OpenElement[];
}

function scanHtml(source: string): MarkupScan {
  const state = new Uint8Array(source.length + 1);
  const tags: Array<{ at: number; end: number; name: string; closing: boolean; text: string }> = [];
  let depth = 0;
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (ch === '<') {
      const end = source.indexOf('>', i);
      if (end < 0) break;
      const text = source.slice(i, end + 1);
      const m = /^<\s*(\/)?\s*([a-zA-Z][a-zA-Z0-9-]*)/.exec(text);
      if (m !== null) {
        const closing = m[1] === '/';
        tags.push({ at: i, end: end + 1, name: (m[2] as string).toLowerCase(), closing, text });
        depth = Math.max(0, depth + (closing ? -1 : 1));
      }
      for (let k = i + 1; k <= end; k++) state[k] = 2;
      i = end + 1;
      state[i] = depth > 0 ? 1 : 0;
      continue;
    }
    if (ch === '&') {
      const m = /^&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);/.exec(source.slice(i, i + 12));
      if (m !== null) {
        for (let k = i + 1; k < i + m[0].length; k++) state[k] = 2;
        i += m[0].length;
        state[i] = depth > 0 ? 1 : 0;
        continue;
      }
    }
    i++;
    state[i] = depth > 0 ? 1 : 0;
    // A surrogate pair is one character.
    if (i < source.length && isLowSurrogate(source.charCodeAt(i))) state[i] = 2;
  }
  return {
    state,
    openAt(position) {
      const stack: Array<{ name: string; text: string }> = [];
      for (const t of tags) {
        if (t.end > position) break;
        if (!t.closing) stack.push({ name: t.name, text: t.text });
        else {
          const idx = stack.map((s) => s.name).lastIndexOf(t.name);
          if (idx >= 0) stack.splice(idx, 1);
        }
      }
      return stack.map((s) => ({ open: s.text, close: `</${s.name}>` }));
    },
  };
}

function scanMarkdown(source: string, v2: boolean): MarkupScan {
  const state = new Uint8Array(source.length + 1);
  const fences: Array<{ at: number; open: string }> = []; // each fence start (toggle)
  let inFence = false;
  let inCode = false;
  let i = 0;
  while (i < source.length) {
    if (v2 && source[i] === '\\') {
      state[i + 1] = 2;
      i += 2;
      state[i] = inFence ? 1 : inCode ? 2 : 0;
      continue;
    }
    if (source.startsWith('```', i) && !inCode) {
      const lineEnd = source.indexOf('\n', i);
      const open = inFence ? '' : source.slice(i, lineEnd < 0 ? source.length : lineEnd + 1);
      fences.push({ at: i, open });
      inFence = !inFence;
      const skip = inFence && lineEnd >= 0 ? lineEnd + 1 - i : 3;
      for (let k = i + 1; k < i + skip; k++) state[k] = 2;
      i += skip;
      state[i] = inFence ? 1 : 0;
      continue;
    }
    if (source[i] === '`' && !inFence) inCode = !inCode;
    i++;
    state[i] = inFence ? 1 : inCode ? 2 : 0;
    if (i < source.length && isLowSurrogate(source.charCodeAt(i))) state[i] = 2;
  }
  return {
    state,
    openAt(position) {
      let open: string | undefined;
      for (const f of fences) {
        if (f.at >= position) break;
        open = open === undefined ? f.open : undefined;
      }
      return open === undefined ? [] : [{ open: open.endsWith('\n') ? open : `${open}\n`, close: '\n```' }];
    },
  };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

const SEPARATORS = ['\n\n', '\n', ' '] as const;

interface Cut {
  end: number;
  next: number;
  closeWith: string;
  reopenWith: string;
}

/** A cut at [end, next) that closes what is open there; undefined when the closing tags would not fit. */
function closingCut(scan: MarkupScan, start: number, reopenLength: number, limit: number, end: number, next: number): Cut | undefined {
  const open = scan.state[end] === 1 ? scan.openAt(end) : [];
  const closeWith = open
    .map((o) => o.close)
    .reverse()
    .join('');
  if (reopenLength + (end - start) + closeWith.length > limit) return undefined;
  return { end, next, closeWith, reopenWith: open.map((o) => o.open).join('') };
}

/** Splits markup `source` in `parseMode` into parts of at most `limit` source characters. */
export function splitMarkup(source: string, parseMode: string, limit: number): string[] {
  const mode = parseMode.toLowerCase();
  const scan = mode === 'html' ? scanHtml(source) : scanMarkdown(source, mode === 'markdownv2');
  const parts: string[] = [];
  let start = 0;
  let reopen = '';
  while (reopen.length + source.length - start > limit) {
    const budget = limit - reopen.length;
    if (budget < limit / 2) {
      reopen = ''; // absurdly long open tags: better lose the formatting than loop
      continue;
    }
    const end = start + budget;
    let cut: Cut | undefined;
    // 1. A boundary outside all markup. 2. A boundary inside an element, which is closed and
    // reopened around the cut. 3. Anywhere not inside a tag, reference or escape.
    for (const allowed of [0, 1] as const) {
      for (const sep of SEPARATORS) {
        for (let i = source.lastIndexOf(sep, end - sep.length); i > start && cut === undefined; i = source.lastIndexOf(sep, i - 1)) {
          if ((scan.state[i] as number) <= allowed && (scan.state[i + sep.length] as number) <= allowed) cut = closingCut(scan, start, reopen.length, limit, i, i + sep.length);
        }
        if (cut !== undefined) break;
      }
      if (cut !== undefined) break;
    }
    for (let p = end; p > start && cut === undefined; p--) {
      if (scan.state[p] !== 2) cut = closingCut(scan, start, reopen.length, limit, p, p);
    }
    if (cut === undefined) cut = { end, next: end, closeWith: '', reopenWith: '' }; // nothing better exists
    const part = reopen + source.slice(start, cut.end) + cut.closeWith;
    if (part.trim() !== '') parts.push(part);
    reopen = cut.reopenWith;
    start = cut.next;
  }
  const last = reopen + source.slice(start);
  if (last.trim() !== '') parts.push(last);
  return parts;
}
