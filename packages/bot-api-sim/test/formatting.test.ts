/**
 * The parse_mode parsers alone: displayed text, entities with UTF-16 offsets, and Telegram's
 * error messages with UTF-8 byte offsets.
 */
import { expect } from 'chai';
import { ApiError, formatText, parseHtml, parseMarkdown, parseMarkdownV2 } from '../src/index.js';

function failure(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    if (error instanceof ApiError) return error.description;
    throw error;
  }
  throw new Error('expected a parse error');
}

describe('formatting', () => {
  describe('MarkdownV2', () => {
    it('refuses each reserved character outside an entity, naming it', () => {
      for (const c of ['.', '!', '-', '+', '=', '#', '{', '}', '(', ')', ']', '>', '|']) {
        expect(failure(() => parseMarkdownV2(`a ${c} b`))).to.equal(`Bad Request: can't parse entities: Character '${c}' is reserved and must be escaped with the preceding '\\'`);
      }
    });

    it('accepts every reserved character escaped', () => {
      const reserved = '_*[]()~`>#+-=|{}.!';
      const escaped = [...reserved].map((c) => `\\${c}`).join('');
      expect(parseMarkdownV2(escaped)).to.deep.equal({ text: reserved, entities: [] });
    });

    it('parses nested entities, links and code', () => {
      const { text, entities } = parseMarkdownV2('*bold _both_* [site](https://example.com/a\\)b) `x.y` ||hidden||');
      expect(text).to.equal('bold both site x.y hidden');
      expect(entities).to.deep.equal([
        { type: 'bold', offset: 0, length: 9 },
        { type: 'italic', offset: 5, length: 4 },
        { type: 'text_link', offset: 10, length: 4, url: 'https://example.com/a)b' },
        { type: 'code', offset: 15, length: 3 },
        { type: 'spoiler', offset: 19, length: 6 },
      ]);
    });

    it('takes a pre block with a language', () => {
      expect(parseMarkdownV2('```ts\nconst a = 1;\n```')).to.deep.equal({ text: 'const a = 1;\n', entities: [{ type: 'pre', offset: 0, length: 13, language: 'ts' }] });
    });

    it('reports an unclosed entity with its UTF-8 byte offset', () => {
      expect(failure(() => parseMarkdownV2('🏟 x *bold'))).to.equal("Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 7");
      expect(failure(() => parseMarkdownV2('_it'))).to.equal("Bad Request: can't parse entities: Can't find end of Italic entity at byte offset 0");
      expect(failure(() => parseMarkdownV2('[a](http://x'))).to.equal("Bad Request: can't parse entities: Can't find end of a URL at byte offset 4");
    });

    it('takes a block quote at the start of lines', () => {
      const { text, entities } = parseMarkdownV2('>quoted\n>more\nplain');
      expect(text).to.equal('quoted\nmore\nplain');
      expect(entities).to.deep.equal([{ type: 'blockquote', offset: 0, length: 11 }]);
      expect(failure(() => parseMarkdownV2('a > b'))).to.contain("Character '>' is reserved");
    });
  });

  describe('Markdown (legacy)', () => {
    it('parses its four entities and lets other characters be', () => {
      const { text, entities } = parseMarkdown('*b* _i_ `c` [l](http://x.y) 1.5 - ok!');
      expect(text).to.equal('b i c l 1.5 - ok!');
      expect(entities.map((e) => e.type)).to.deep.equal(['bold', 'italic', 'code', 'text_link']);
    });

    it('reports an unclosed entity', () => {
      expect(failure(() => parseMarkdown('snake_case'))).to.equal("Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 5");
    });
  });

  describe('HTML', () => {
    it('parses tags, attributes and entities', () => {
      const { text, entities } = parseHtml('<b>bold <i>both</i></b> &lt;3 <a href="https://example.com">link</a> <pre><code class="language-js">x</code></pre>');
      expect(text).to.equal('bold both <3 link x');
      expect(entities).to.deep.equal([
        { type: 'bold', offset: 0, length: 9 },
        { type: 'italic', offset: 5, length: 4 },
        { type: 'text_link', offset: 13, length: 4, url: 'https://example.com' },
        { type: 'pre', offset: 18, length: 1, language: 'js' },
      ]);
    });

    it('reports unsupported, unmatched and unclosed tags', () => {
      expect(failure(() => parseHtml('x <p>y</p>'))).to.equal('Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 2');
      expect(failure(() => parseHtml('<b>x</i>'))).to.equal('Bad Request: can\'t parse entities: Unmatched end tag at byte offset 4, expected "</b>", found "</i>"');
      expect(failure(() => parseHtml('x</b>'))).to.equal("Bad Request: can't parse entities: Unexpected end tag at byte offset 1");
      expect(failure(() => parseHtml('<b>x'))).to.equal('Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"');
    });
  });

  it('trims whitespace around the text and shifts entities along', () => {
    expect(formatText('  *hi*  ', 'MarkdownV2')).to.deep.equal({ text: 'hi', entities: [{ type: 'bold', offset: 0, length: 2 }] });
  });

  it('refuses an unknown parse_mode', () => {
    expect(failure(() => formatText('x', 'BBCode'))).to.equal('Bad Request: unsupported parse_mode');
  });
});
