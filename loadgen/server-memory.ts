/** RSS of a server process and all its descendants (gateway workers), from /proc. */
import { readFileSync } from 'node:fs';

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function rss(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) * 1024;
  } catch {
    return 0;
  }
}

export function treeRss(pid: number): number {
  let total = 0;
  const stack = [pid];
  for (let guard = 0; stack.length > 0 && guard < 1024; guard++) {
    const next = stack.pop() as number;
    total += rss(next);
    stack.push(...children(next));
  }
  return total;
}
