/** SPEC.md's opcode and error-code tables say what protocol/*.ts defines, row for row. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_INFO, ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';

const spec = readFileSync(new URL('../../protocol/SPEC.md', import.meta.url), 'utf8');

/** The rows of the first table after `heading`, as trimmed cells. */
function table(heading: string): string[][] {
  const start = spec.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `no section ${heading}`);
  const lines = spec.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (let i = first + 2; i < lines.length && (lines[i] as string).startsWith('|'); i++) {
    rows.push((lines[i] as string).split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

const unquote = (cell: string) => cell.replace(/`/g, '').replace(/\*\*/g, '');

describe('SPEC.md tables', () => {
  it('lists every opcode of protocol/opcodes.ts with its value, and no other', () => {
    const rows = table('### 5.1 Opcode table');
    const listed = new Map(rows.map((row) => [unquote(row[0] as string), Number(unquote(row[1] as string))]));
    assert.deepEqual(Object.fromEntries(listed), { ...Opcode });
  });

  it('lists every error code of protocol/errors.ts with its name, retry, fatal and meaning', () => {
    const rows = table('## 14. Error codes');
    const listed = rows.map((row) => ({
      code: Number(row[0]),
      name: unquote(row[1] as string),
      retry: unquote(row[2] as string) === 'yes',
      fatal: unquote(row[3] as string) === 'yes',
      meaning: unquote(row[4] as string),
    }));
    const defined = Object.values(ErrorCode).map((code) => ({ code, ...ERROR_INFO[code], meaning: unquote(ERROR_INFO[code].meaning) }));
    assert.equal(listed.length, defined.length);
    for (const [i, row] of listed.entries()) {
      const info = defined[i]!;
      assert.deepEqual({ code: row.code, name: row.name, retry: row.retry, fatal: row.fatal }, { code: info.code, name: info.name, retry: info.retry, fatal: info.fatal });
      // The spec may say more than the code's one-liner, never something else.
      assert.ok(row.meaning.startsWith(info.meaning.replace(/\.$/, '')), `${row.code}: "${row.meaning}" vs "${info.meaning}"`);
    }
  });
});
