/**
 * The sensitive-word filter applied to message content before it is stored: `replace` masks
 * every occurrence with `*` (one per UTF-16 code unit, so the length is kept), `reject` refuses
 * the send with 3003 contentRejected. The word list can be swapped at run time (SIGHUP reloads
 * it); a message is filtered by the list in force when it arrives.
 */
import { ErrorCode, ProtocolError } from '../../../protocol/errors.ts';
import { AhoCorasick } from './aho-corasick.ts';

export type FilterPolicy = 'replace' | 'reject';

/** Words in a list: each at most 64 characters, at most 100,000 of them (about 6 MB of automaton). */
export const MAX_WORDS = 100_000;
export const MAX_WORD_LENGTH = 64;

/** One word per line; blank lines and lines starting with # are skipped, spaces around a word trimmed. */
export function parseWordList(text: string): string[] {
  const words: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const word = line.trim();
    if (word === '' || word.startsWith('#')) continue;
    if (word.length > MAX_WORD_LENGTH) throw new Error(`word list: "${word.slice(0, 20)}…" is longer than ${MAX_WORD_LENGTH} characters`);
    words.push(word);
    if (words.length > MAX_WORDS) throw new Error(`word list: more than ${MAX_WORDS} words`);
  }
  return words;
}

export class ContentFilter {
  private automaton: AhoCorasick;
  private count: number;

  constructor(
    readonly policy: FilterPolicy,
    words: readonly string[],
  ) {
    this.automaton = new AhoCorasick(words);
    this.count = words.length;
  }

  get words(): number {
    return this.count;
  }

  /** Swaps the word list; messages already filtered keep what they got. */
  reload(words: readonly string[]): void {
    this.automaton = new AhoCorasick(words);
    this.count = words.length;
  }

  /** The content to store: unchanged, masked, or a 3003 ProtocolError under `reject`. */
  apply(content: string): string {
    if (this.policy === 'reject') {
      if (this.automaton.matches(content)) throw new ProtocolError(ErrorCode.contentRejected, 'the message contains a word this service does not allow');
      return content;
    }
    let masked: string[] | undefined;
    this.automaton.scan(content, (start, end) => {
      masked ??= content.split('');
      for (let i = start; i < end; i++) masked[i] = '*';
    });
    return masked ? masked.join('') : content;
  }
}

/** ASCII letters lowercased, other characters kept: the automaton's case folding. */
export function foldAscii(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * The per-word scan the automaton replaces: one indexOf pass per word over the folded content
 * (the bench's baseline and the property test's oracle). `words` must already be folded.
 */
export function naiveMask(words: readonly string[], content: string): string {
  const lower = foldAscii(content);
  let masked: string[] | undefined;
  for (const needle of words) {
    for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + 1)) {
      masked ??= content.split('');
      for (let i = at; i < at + needle.length; i++) masked[i] = '*';
    }
  }
  return masked ? masked.join('') : content;
}
