/**
 * Aho–Corasick over UTF-16 code units: one pass over the text finds every occurrence of every
 * word, whatever the number of words. ASCII letters match without regard to case (folded per code
 * unit, so indexes in the text stay those of the original); other characters match exactly,
 * which suits Chinese, where there is no case.
 */

function fold(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

export class AhoCorasick {
  /** Transitions of each state, by folded code unit. */
  private readonly next: Array<Map<number, number>> = [new Map()];
  private readonly fail: number[] = [0];
  /** Length of the longest word that ends at each state, following fail links (0: none). */
  private readonly longest: number[] = [0];

  constructor(words: Iterable<string>) {
    for (const word of words) if (word.length > 0) this.add(word);
    this.link();
  }

  get states(): number {
    return this.next.length;
  }

  private add(word: string): void {
    let state = 0;
    for (let i = 0; i < word.length; i++) {
      const code = fold(word.charCodeAt(i));
      const edges = this.next[state] as Map<number, number>;
      let to = edges.get(code);
      if (to === undefined) {
        to = this.next.length;
        edges.set(code, to);
        this.next.push(new Map());
        this.fail.push(0);
        this.longest.push(0);
      }
      state = to;
    }
    this.longest[state] = Math.max(this.longest[state] as number, word.length);
  }

  /** Breadth-first: each state's fail link is the longest proper suffix that is also a prefix. */
  private link(): void {
    const queue: number[] = [];
    for (const to of (this.next[0] as Map<number, number>).values()) queue.push(to);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      for (const [code, to] of this.next[state] as Map<number, number>) {
        let f = this.fail[state] as number;
        while (f !== 0 && !(this.next[f] as Map<number, number>).has(code)) f = this.fail[f] as number;
        const target = (this.next[f] as Map<number, number>).get(code);
        const link = target !== undefined && target !== to ? target : 0;
        this.fail[to] = link;
        this.longest[to] = Math.max(this.longest[to] as number, this.longest[link] as number);
        queue.push(to);
      }
    }
  }

  /**
   * Calls `found(start, end)` for the longest word ending at each position where one ends; the
   * union of these ranges is the union of every occurrence of every word.
   */
  scan(text: string, found: (start: number, end: number) => void): void {
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = fold(text.charCodeAt(i));
      let to = (this.next[state] as Map<number, number>).get(code);
      while (to === undefined && state !== 0) {
        state = this.fail[state] as number;
        to = (this.next[state] as Map<number, number>).get(code);
      }
      state = to ?? 0;
      const length = this.longest[state] as number;
      if (length > 0) found(i + 1 - length, i + 1);
    }
  }

  /** True when the text contains any word; stops at the first. */
  matches(text: string): boolean {
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = fold(text.charCodeAt(i));
      let to = (this.next[state] as Map<number, number>).get(code);
      while (to === undefined && state !== 0) {
        state = this.fail[state] as number;
        to = (this.next[state] as Map<number, number>).get(code);
      }
      state = to ?? 0;
      if ((this.longest[state] as number) > 0) return true;
    }
    return false;
  }
}
