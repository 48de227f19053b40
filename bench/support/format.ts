/** Number formatting for bench reports: fixed widths so the columns of one suite line up. */

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function integer(value: number): string {
  return grouped.format(value);
}

/** 1234567 → "1.23 M ", with k / M / G so rates of very different sizes stay readable; ends with a space. */
export function scaled(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} G `;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M `;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k `;
  return `${value.toFixed(0)} `;
}

export function megabytes(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** Pads every column to its widest cell; the first column is left-aligned, the rest right-aligned. */
export function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map(
    (row) => indent + row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('   ').trimEnd(),
  );
}
