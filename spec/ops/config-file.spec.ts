import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPTIONS, parseConfig, USAGE, type ServerConfig } from '../../server/config.ts';

function parse(argv: string[], env: NodeJS.ProcessEnv, files: Record<string, string>): ServerConfig {
  const config = parseConfig(argv, env, (path) => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT ${path}`);
    return text;
  });
  assert.notEqual(config, 'help');
  return config as ServerConfig;
}

describe('configuration file and schema', () => {
  const file = { '/etc/tern.json': JSON.stringify({ port: 7100, 'data-dir': '/srv/tern', 'admin-token': 'from-file', 'no-admin': false, quiet: true, workers: '3' }) };

  it('reads a JSON file whose keys are the flags', () => {
    const config = parse(['--config', '/etc/tern.json'], {}, file);
    assert.equal(config.port, 7100);
    assert.equal(config.dataDir, '/srv/tern');
    assert.equal(config.workers, 3);
    assert.equal(config.logLevel, 'silent');
    assert.equal(config.admin?.token, 'from-file');
  });

  it('lets the environment override the file and flags override both', () => {
    const env = { TERN_CONFIG: '/etc/tern.json', TERN_PORT: '7200', TERN_WORKERS: '2' };
    const config = parse(['--workers', '1'], env, file);
    assert.equal(config.port, 7200, 'environment over file');
    assert.equal(config.workers, 1, 'flag over environment');
    assert.equal(config.dataDir, '/srv/tern', 'file over default');
  });

  it('fails at start naming an unknown key or a value of the wrong type', () => {
    assert.throws(() => parse(['--config', 'a.json'], {}, { 'a.json': '{"prot": 7000}' }), /config file a\.json: unknown key "prot"/);
    assert.throws(() => parse(['--config', 'a.json'], {}, { 'a.json': '{"quiet": "yes"}' }), /"quiet" must be true or false/);
    assert.throws(() => parse(['--config', 'a.json'], {}, { 'a.json': '{"host": ["a"]}' }), /"host" must be a string or a number/);
    assert.throws(() => parse(['--config', 'a.json'], {}, { 'a.json': '{"port": "seventy"}' }), /--port must be a non-negative integer/);
    assert.throws(() => parse(['--config', 'a.json'], {}, { 'a.json': '[1]' }), /must be a JSON object/);
    assert.throws(() => parse(['--config', 'a.json'], {}, { 'a.json': '{"help": true}' }), /unknown key "help"/);
    assert.throws(() => parse(['--prot', '1'], {}, {}), /Unknown option '--prot'/);
  });

  it('takes a webhook only with a secret and an http(s) URL', () => {
    assert.equal(parse([], {}, {}).webhook, undefined);
    assert.deepEqual(parse(['--webhook-url', 'http://127.0.0.1:9/hook'], { TERN_WEBHOOK_SECRET: 's' }, {}).webhook, { url: 'http://127.0.0.1:9/hook', secret: 's', afterSend: false });
    assert.equal(parse(['--webhook-url', 'http://127.0.0.1:9/hook', '--webhook-after-send'], { TERN_WEBHOOK_SECRET: 's' }, {}).webhook?.afterSend, true);
    assert.equal(parse(['--webhook-url', 'http://127.0.0.1:9/hook'], { TERN_WEBHOOK_SECRET: 's', TERN_WEBHOOK_AFTER_SEND: '1' }, {}).webhook?.afterSend, true);
    assert.throws(() => parse(['--webhook-after-send'], {}, {}), /needs --webhook-url/);
    assert.throws(() => parse(['--webhook-url', 'http://127.0.0.1:9/hook'], {}, {}), /needs --webhook-secret/);
    assert.throws(() => parse(['--webhook-url', 'ftp://x/hook', '--webhook-secret', 's'], {}, {}), /must be an http\(s\) URL/);
  });

  it('documents every option of the schema, with its environment variable, in --help', () => {
    for (const [name, option] of Object.entries(OPTIONS)) {
      assert.ok(USAGE.includes(`--${name}`), `--${name} in the usage`);
      if (option.env) assert.ok(USAGE.includes(option.env), `${option.env} in the usage`);
    }
  });

  it('prints the resolved configuration with --print-config, the token redacted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tern-config-'));
    try {
      const path = join(dir, 'tern.json');
      writeFileSync(path, JSON.stringify({ port: 7300, 'admin-token': 'very-secret' }));
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', path, '--print-config'], { timeout: 20_000 }, (error, out) => (error ? reject(error) : resolve(out))),
      );
      const printed = JSON.parse(stdout) as ServerConfig;
      assert.equal(printed.port, 7300);
      assert.equal(printed.admin?.token, '[redacted]');
      assert.ok(!stdout.includes('very-secret'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
