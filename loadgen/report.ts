/** The end of a run: a JSON result and a self-contained HTML report with charts over time. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult, TimePoint } from './coordinator.ts';

interface Series {
  readonly name: string;
  readonly color: string;
  readonly value: (p: TimePoint) => number;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function chart(title: string, unit: string, points: TimePoint[], series: Series[]): string {
  const width = 860;
  const height = 220;
  const pad = 48;
  const maxT = Math.max(1, ...points.map((p) => p.t));
  const maxY = Math.max(1e-9, ...points.flatMap((p) => series.map((s) => s.value(p))).filter(Number.isFinite));
  const x = (t: number) => pad + ((width - 2 * pad) * t) / maxT;
  const y = (v: number) => height - pad + ((2 * pad - height) * (Number.isFinite(v) ? v : 0)) / maxY;
  const lines = series
    .map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points.map((p) => `${x(p.t).toFixed(1)},${y(s.value(p)).toFixed(1)}`).join(' ')}"/>`)
    .join('');
  const legend = series.map((s, i) => `<text x="${pad + i * 160}" y="16" fill="${s.color}">${escape(s.name)}</text>`).join('');
  const axes = `<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#999"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#999"/>
<text x="${pad - 4}" y="${pad}" text-anchor="end">${maxY.toFixed(maxY < 10 ? 1 : 0)}</text><text x="${pad - 4}" y="${height - pad}" text-anchor="end">0</text>
<text x="${width - pad}" y="${height - pad + 16}" text-anchor="end">${maxT.toFixed(0)} s</text><text x="${pad}" y="${height - 8}">${escape(unit)}</text>`;
  return `<h2>${escape(title)}</h2><svg width="${width}" height="${height}" font-family="sans-serif" font-size="12">${legend}${axes}${lines}</svg>`;
}

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('')}</table>`;
}

export function summaryRows(r: RunResult): [string, string][] {
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  const kib = (n: number | undefined) => (n === undefined ? 'n/a (give --server-pid)' : `${(n / 1024).toFixed(2)} KiB`);
  const rooms: [string, string][] =
    r.counters.roomOrdinary + r.counters.roomDropped > 0
      ? [['room messages', `${r.counters.delivered} reliable and ${r.counters.roomOrdinary} ordinary deliveries; ${r.counters.roomDropped} ordinary dropped for slow viewers (reported by the server)`],
        ...(r.counters.roomSlowDevices > 0 ? [['slow room devices', `${r.counters.roomSlowDevices} devices stalled their reads ${r.counters.roomStalls} times; the server took them out of their room ${r.counters.roomRemoved} times, they rejoined ${r.counters.roomRejoins} times`] as [string, string]] : [])]
      : [];
  return [
    [
      'verdict',
      (r.passed ? 'PASS: no loss, no duplicate, no order violation, no misdelivery' : 'FAIL') +
        (r.counters.connectFailures > 0 ? `; ${r.counters.connectFailures} devices never connected` : ''),
    ],
    ['devices', `${r.devices} (peak online ${r.peakOnline})`],
    ['connections', `${r.counters.connected} up, ${r.counters.connectFailures} failed ${JSON.stringify(r.failures)} after ${r.counters.connectRetries} retries, ${r.connectRate.toFixed(0)}/s during the ramp`],
    ['drops and reconnects', `${r.counters.disconnects} disconnects, ${r.counters.reconnects} reconnects`],
    ['messages', `${r.counters.sent} sent, ${r.counters.acked} acked, ${r.counters.delivered} delivered; ${r.unackedAtEnd} unacked at the end`],
    ...rooms,
    ['check', `${r.check.acked} acked → ${r.check.expectedDeliveries} expected deliveries; losses ${r.check.losses}, duplicates ${r.check.duplicates}, order violations ${r.check.orderViolations}, misdelivered ${r.check.misdelivered}`],
    ['send → ack', `p50 ${ms(r.ack.p50)} · p90 ${ms(r.ack.p90)} · p99 ${ms(r.ack.p99)} · p99.9 ${ms(r.ack.p999)} · max ${ms(r.ack.max)}`],
    ['send → deliver', `p50 ${ms(r.deliver.p50)} · p90 ${ms(r.deliver.p90)} · p99 ${ms(r.deliver.p99)} · p99.9 ${ms(r.deliver.p999)} · max ${ms(r.deliver.max)}`],
    ['connect → ready', `p50 ${ms(r.connect.p50)} · p99 ${ms(r.connect.p99)}`],
    ['server memory per connection', kib(r.serverBytesPerConnection)],
    ['loadgen memory per device', kib(r.loadgenBytesPerDevice)],
    ...(r.faults.length > 0 ? [['faults', r.faults.map((f) => `${f.what} at ${f.t.toFixed(1)} s`).join('; ')] as [string, string]] : []),
    ['duration', `${r.seconds.toFixed(1)} s`],
  ];
}

export function writeReport(result: RunResult, dir: string): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = join(dir, `run-${stamp}.json`);
  const html = join(dir, `run-${stamp}.html`);
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  const t = result.timeline;
  writeFileSync(
    html,
    `<!doctype html><meta charset="utf-8"><title>tern load run</title>
<style>body{font-family:sans-serif;margin:24px;max-width:920px}th{text-align:left;padding-right:16px;vertical-align:top}td{font-family:monospace}</style>
<h1>tern load run</h1>${table(summaryRows(result))}
${chart('connections online', 'devices', t, [{ name: 'online', color: '#1565c0', value: (p) => p.online }])}
${chart('throughput', 'messages per second', t, [
  { name: 'sent', color: '#6a1b9a', value: (p) => p.sentPerSecond },
  { name: 'acked', color: '#2e7d32', value: (p) => p.ackedPerSecond },
  { name: 'delivered', color: '#ef6c00', value: (p) => p.deliveredPerSecond },
])}
${chart('latency per interval', 'ms', t, [
  { name: 'ack p50', color: '#81c784', value: (p) => p.ack.p50 },
  { name: 'ack p99', color: '#1b5e20', value: (p) => p.ack.p99 },
  { name: 'deliver p50', color: '#ffb74d', value: (p) => p.deliver.p50 },
  { name: 'deliver p99', color: '#e65100', value: (p) => p.deliver.p99 },
])}
<h2>scenario</h2><pre>${escape(JSON.stringify(result.scenario, null, 2))}</pre>`,
  );
  return { json, html };
}
