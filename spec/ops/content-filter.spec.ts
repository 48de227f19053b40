import assert from 'node:assert/strict';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ErrorCode } from '../../protocol/errors.ts';
import { ContentFilter, foldAscii, naiveMask, parseWordList } from '../../server/logic/content-filter/content-filter.ts';
import { useInProcessServer, useSpawnedServer } from '../support/fixtures.ts';
import { waitUntil } from '../support/server.ts';

describe('the content filter', function () {
  this.timeout(30_000);

  it('masks every occurrence of overlapping words, ASCII case-insensitively, Chinese exactly', () => {
    const filter = new ContentFilter('replace', ['he', 'she', 'hers', '敏感词', 'Spam']);
    assert.equal(filter.apply('ushers'), 'u*****');
    assert.equal(filter.apply('SPAM and spam, SpAm'), '**** and ****, ****');
    assert.equal(filter.apply('这是一个敏感词测试，敏感词'), '这是一个***测试，***');
    assert.equal(filter.apply('nothing to see'), 'nothing to see');
    assert.equal(filter.apply(''), '');
  });

  it('masks exactly what a scan per word masks, for random words and texts', () => {
    const alphabet = fc.constantFrom('a', 'b', 'A', 'B', '中', '文', ' ');
    const word = fc.array(alphabet, { minLength: 1, maxLength: 4 }).map((cs) => cs.join('').trim()).filter((w) => w.length > 0);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), fc.array(alphabet, { maxLength: 60 }), (words, text) => {
        const content = text.join('');
        assert.equal(new ContentFilter('replace', words).apply(content), naiveMask(words.map(foldAscii), content));
      }),
      { numRuns: 500, seed: 20_261_203 },
    );
  });

  it('rejects with 3003 under the reject policy, and reloads its list', () => {
    const filter = new ContentFilter('reject', ['pills']);
    assert.throws(() => filter.apply('cheap PILLS here'), (e: { code?: number }) => e.code === ErrorCode.contentRejected);
    assert.equal(filter.apply('cheap vitamins'), 'cheap vitamins');
    filter.reload(['vitamins']);
    assert.equal(filter.apply('cheap pills'), 'cheap pills');
    assert.throws(() => filter.apply('cheap vitamins'));
  });

  it('reads a word list: one per line, comments and blanks skipped, over-long words refused', () => {
    assert.deepEqual(parseWordList('# words\nspam\n\n  敏感词  \r\nscam\n'), ['spam', '敏感词', 'scam']);
    assert.throws(() => parseWordList('x'.repeat(65)), /longer than 64/);
  });

  describe('on the message path', () => {
    const local = useInProcessServer();

    it('stores and pushes the masked content under replace, and refuses the send with 3003 under reject', async () => {
      for (const policy of ['replace', 'reject'] as const) {
        const server = await local.start({ contentFilter: new ContentFilter(policy, ['spam']) });
        const alice = await local.device('alice');
        const bob = await local.device('bob');
        const pushed: string[] = [];
        bob.onPush = (entry) => entry.message && pushed.push(entry.message.content);
        const answers: Array<number | 'ack'> = [];
        alice.send('c1', 'bob', 'no spam here', (ack, code) => answers.push(ack ? 'ack' : (code ?? -1)));
        alice.send('c2', 'bob', 'clean', (ack, code) => answers.push(ack ? 'ack' : (code ?? -1)));
        await waitUntil(() => answers.length === 2, 'both sends answered');
        const history = (await server.stores.history.page('p:alice:bob', undefined, 10)).messages.map((m) => m.content);
        if (policy === 'replace') {
          assert.deepEqual(answers, ['ack', 'ack']);
          await waitUntil(() => pushed.length === 2, 'both pushed');
          assert.deepEqual(pushed, ['no **** here', 'clean']);
          assert.deepEqual(history.sort(), ['clean', 'no **** here']);
        } else {
          assert.deepEqual(answers, [ErrorCode.contentRejected, 'ack']);
          assert.deepEqual(history, ['clean'], 'the rejected message is not stored');
        }
        await local.stop();
      }
    });
  });

  describe('in the server process', () => {
    const spawned = useSpawnedServer('filter');

    it('reloads the word list when the file changes', async () => {
      const words = join(spawned.dir, 'words.txt');
      writeFileSync(words, 'alpha\n');
      await spawned.start(['--workers', '1', '--content-filter', words]);
      const alice = await spawned.device('alice');
      const bob = await spawned.device('bob');
      const pushed: string[] = [];
      bob.onPush = (entry) => entry.message && pushed.push(entry.message.content);
      writeFileSync(words, 'alpha\ngamma-delta\n');
      // Polled every second: send (bounded, 100 ms apart) until the new word is masked.
      for (let i = 0; i < 60 && !pushed.includes('***********'); i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
        alice.send(`w${i}`, 'bob', 'gamma-delta', () => undefined);
        await waitUntil(() => pushed.length === i + 1, `push ${i + 1}`);
      }
      assert.ok(pushed.includes('***********'), 'the changed file is in force without a signal');
    });

    it('reloads the word list on SIGHUP', async () => {
      const words = join(spawned.dir, 'words.txt');
      writeFileSync(words, 'alpha\n');
      const proc = await spawned.start(['--workers', '2', '--content-filter', words]);
      const alice = await spawned.device('alice');
      const bob = await spawned.device('bob');
      const pushed: string[] = [];
      bob.onPush = (entry) => entry.message && pushed.push(entry.message.content);
      alice.send('c1', 'bob', 'alpha beta', () => undefined);
      await waitUntil(() => pushed.length === 1, 'first push');
      // Same size and mtime as before, so that only the signal, not the change poll, can see it.
      const before = statSync(words);
      writeFileSync(words, 'beta \n');
      utimesSync(words, before.atime, before.mtime);
      proc.child.kill('SIGHUP');
      // The reload is not observable from outside but by its effect: send until beta is masked.
      for (let i = 0; i < 50 && !pushed.includes('alpha ****'); i++) {
        alice.send(`r${i}`, 'bob', 'alpha beta', () => undefined);
        await waitUntil(() => pushed.length === i + 2, `push ${i + 2}`);
      }
      assert.equal(pushed[0], '***** beta');
      assert.ok(pushed.includes('alpha ****'), 'the new list is in force after SIGHUP');
      assert.equal(proc.child.exitCode, null, 'SIGHUP ends no process');
    });
  });
});
