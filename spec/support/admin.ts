import type { ServerProcess } from './process.ts';

/** The admin listener's base URL, from the server's "listening" line. */
export function adminUrl(server: ServerProcess): string {
  const match = /admin (http:\/\/[^\s;]+)/.exec(server.output());
  if (!match) throw new Error(`no admin listener in:\n${server.output()}`);
  return match[1] as string;
}

export async function call(url: string, options: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}
