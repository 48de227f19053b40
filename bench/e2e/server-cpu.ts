/** CPU time of a server process and every process below it (gateway workers), from /proc. */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function ownSeconds(pid: number): number {
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds of `pid` and its descendants that are alive now. */
export function treeCpuSeconds(pid: number): number {
  let total = ownSeconds(pid);
  for (const child of children(pid)) total += treeCpuSeconds(child);
  return total;
}
