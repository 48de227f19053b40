/**
 * Content filter throughput: the Aho–Corasick automaton beside a scan per word (indexOf), in the
 * same run, on English and Chinese chat messages of 20–300 characters built from common words and
 * characters, against lists of 100 and 2,000 words, ~1% of messages holding a listed word.
 *   node --import tsx bench/filter.ts [seconds-per-case=0.5]
 */
import { ContentFilter, foldAscii, naiveMask } from '../server/logic/content-filter/content-filter.ts';
import { Prng } from '../spec/support/prng.ts';

const ENGLISH = (
  'the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an will my one all would there ' +
  'their what so up out if about who get which go me when make can like time no just him know take people into year your good some could them see ' +
  'other than then now look only come its over think also back after use two how our work first well way even new want because any these give day ' +
  'most us ok lol thanks meeting tomorrow tonight dinner lunch coffee call later home office train late sorry sure great see photo send link game'
).split(' ');
const CHINESE = [...'的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明'];

function pick<T>(prng: Prng, list: readonly T[]): T {
  return list[prng.below(list.length)] as T;
}

function wordList(prng: Prng, count: number, chinese: boolean): string[] {
  const words = new Set<string>();
  while (words.size < count) {
    if (chinese) {
      const length = 2 + prng.below(3);
      let w = '';
      for (let i = 0; i < length; i++) w += pick(prng, CHINESE);
      words.add(w);
    } else words.add(`${pick(prng, ENGLISH)}${pick(prng, ['x', 'z', 'q', 'zz'])}${pick(prng, ENGLISH)}`);
  }
  return [...words];
}

function messages(prng: Prng, count: number, chinese: boolean, words: readonly string[]): string[] {
  const out: string[] = [];
  for (let m = 0; m < count; m++) {
    const target = 20 + prng.below(280);
    let text = '';
    while (text.length < target) text += chinese ? pick(prng, CHINESE) : `${pick(prng, ENGLISH)} `;
    if (prng.below(100) === 0) text += chinese ? pick(prng, words) : ` ${pick(prng, words)}`;
    out.push(text);
  }
  return out;
}

/** Characters per second of `run` over the corpus, repeated for about `seconds`. */
function measure(corpus: readonly string[], seconds: number, run: (text: string) => string): number {
  const chars = corpus.reduce((n, t) => n + t.length, 0);
  let passes = 0;
  let sink = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000 && passes < 10_000) {
    for (const text of corpus) sink += run(text).length;
    passes++;
  }
  const elapsed = (performance.now() - started) / 1000;
  if (sink < 0) console.log(sink);
  return (chars * passes) / elapsed;
}

const seconds = Number(process.argv[2] ?? '0.5');
console.log(`content filter, mask policy; ${seconds} s per case; million characters/s (higher is better)`);
console.log(`${'text'.padEnd(8)} ${'words'.padStart(6)} ${'Aho–Corasick'.padStart(13)} ${'per-word scan'.padStart(14)} ${'ratio'.padStart(7)}`);
for (const chinese of [false, true]) {
  for (const count of [100, 2_000]) {
    const prng = new Prng(count + (chinese ? 7 : 0));
    const words = wordList(prng, count, chinese);
    const corpus = messages(prng, 500, chinese, words);
    const filter = new ContentFilter('replace', words);
    const folded = words.map(foldAscii);
    for (const text of corpus) if (filter.apply(text) !== naiveMask(folded, text)) throw new Error('the two scans disagree');
    const ac = measure(corpus, seconds, (t) => filter.apply(t));
    const naive = measure(corpus, seconds, (t) => naiveMask(folded, t));
    console.log(`${(chinese ? 'Chinese' : 'English').padEnd(8)} ${String(count).padStart(6)} ${(ac / 1e6).toFixed(1).padStart(13)} ${(naive / 1e6).toFixed(2).padStart(14)} ${`${(ac / naive).toFixed(1)}×`.padStart(7)}`);
  }
}
