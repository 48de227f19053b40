import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Client } from '../../client/client.ts';
import { Platform } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { parseConfig, type ServerConfig } from '../../server/config.ts';
import { pinoLogger } from '../../server/ops/log.ts';
import { startTestServer, waitUntil, type TestServer } from '../support/server.ts';

interface Line {
  level: number;
  event: string;
  [field: string]: unknown;
}

function capture(level: Parameters<typeof pinoLogger>[0]) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    logger: pinoLogger(level, stream),
    get text() {
      return text;
    },
    lines: (): Line[] =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Line),
  };
}

describe('structured logs', function () {
  this.timeout(20_000);
  let server: TestServer | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('logs logins, failed logins with their code and closes with their reason, never a password or token', async () => {
    const log = capture('info');
    server = await startTestServer({ logger: log.logger });
    const alice = server.client('alice', { password: 'alice-secret-password' });
    await alice.connect();
    const token = alice.session!.token;
    const intruder = new Client({ endpoint: { host: '127.0.0.1', port: server.port }, userId: 'alice', deviceId: 'x', platform: Platform.web, password: 'guessed-password', reconnect: false });
    await assert.rejects(intruder.connect());
    intruder.close();
    alice.close();
    await waitUntil(() => log.lines().filter((l) => l.event === 'close').length >= 2, 'both connections logged as closed');

    const lines = log.lines();
    const login = lines.find((l) => l.event === 'login');
    assert.equal(login?.user, 'alice');
    assert.equal(login?.device, 'alice-phone');
    const failed = lines.find((l) => l.event === 'login-failed');
    assert.equal(failed?.code, ErrorCode.badCredentials);
    assert.ok(lines.some((l) => l.event === 'close' && l.reason === 'peer' && l.user === 'alice'), 'the close of alice\'s connection with its reason');
    for (const secret of ['alice-secret-password', 'guessed-password', token]) assert.ok(!log.text.includes(secret), `a log line contains ${secret.slice(0, 6)}…`);
    assert.ok(lines.every((l) => typeof l.level === 'number' && typeof l.event === 'string' && typeof l.time === 'string'));
  });

  it('logs the drain, and filters by level', async () => {
    const log = capture('warn');
    server = await startTestServer({ logger: log.logger });
    await server.client('bob').connect();
    await server.gateway.drain({ graceMs: 1_000, spreadMs: 10 });
    assert.deepEqual(log.lines(), [], 'nothing at warn and above');
    const info = capture('info');
    info.logger('drain', { connections: 1 });
    assert.equal(info.lines()[0]?.event, 'drain');
    const silent = capture('silent');
    silent.logger('internal-error', { error: 'x' });
    assert.equal(silent.text, '');
  });

  it('takes the level from --log-level or TERN_LOG_LEVEL, --quiet silences, and an unknown level fails', () => {
    const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseConfig(argv, env) as ServerConfig;
    assert.equal(parse([]).logLevel, 'info');
    assert.equal(parse([], { TERN_LOG_LEVEL: 'debug' }).logLevel, 'debug');
    assert.equal(parse(['--log-level', 'error'], { TERN_LOG_LEVEL: 'debug' }).logLevel, 'error');
    assert.equal(parse(['--quiet', '--log-level', 'debug']).logLevel, 'silent');
    assert.throws(() => parse(['--log-level', 'loud']), /--log-level must be one of/);
  });
});
