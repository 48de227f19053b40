import assert from 'node:assert/strict';
import { parseConfig, type ServerConfig } from '../../server/config.ts';
import { redisConnection } from '../../server/stores.ts';

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ServerConfig {
  const config = parseConfig(argv, env);
  assert.notEqual(config, 'help');
  return config as ServerConfig;
}

describe('server configuration: the store', () => {
  it('takes group limits from flags and the environment, with the defaults of SPEC §15 otherwise', () => {
    assert.deepEqual(parse([]).groups, { maxMembers: 100_000, maxGroupsPerUser: 500, writeDiffusionMaxMembers: 0, receiptsMaxMembers: 500 });
    const set = parse(['--group-max-members', '2000', '--group-write-diffusion-max', '20'], { TERN_GROUPS_PER_USER: '50' }).groups;
    assert.deepEqual(set, { maxMembers: 2000, maxGroupsPerUser: 50, writeDiffusionMaxMembers: 20, receiptsMaxMembers: 500 });
    assert.throws(() => parse(['--group-max-members', 'many']), /--group-max-members/);
    assert.equal(parse([]).scryptQueue, 16);
    assert.equal(parse(['--scrypt-queue', '5000']).scryptQueue, 5000, 'benches that register thousands of users at once lift the 5002 bound');
  });

  it('runs on the embedded store in the data directory by default', () => {
    assert.deepEqual(parse([]).store, { kind: 'embedded', dataDir: 'var/data' });
    assert.deepEqual(parse(['--data-dir', '/tmp/d']).store, { kind: 'embedded', dataDir: '/tmp/d' });
  });

  it('selects Redis + Cassandra with their defaults', () => {
    assert.deepEqual(parse(['--store', 'production']).store, {
      kind: 'production',
      redisUrl: 'redis://127.0.0.1:6379',
      cassandra: ['127.0.0.1:9042'],
      keyspace: 'tern',
      tenant: '',
      keyPrefix: 'tern:',
    });
  });

  it('takes the production options from flags before the environment', () => {
    const env = { TERN_STORE: 'production', TERN_REDIS_URL: 'redis://r:1', TERN_CASSANDRA: 'c1:9042, c2:9042', TERN_KEYSPACE: 'ks', TERN_NODE_ID: 'n1' };
    assert.deepEqual(parse(['--key-prefix', 'x:', '--tenant', 'acme', '--node-id', 'n2'], env).store, {
      kind: 'production',
      redisUrl: 'redis://r:1',
      cassandra: ['c1:9042', 'c2:9042'],
      keyspace: 'ks',
      tenant: 'acme',
      keyPrefix: 'x:',
      nodeId: 'n2',
    });
  });

  it('rejects an unknown store, a malformed node id and an empty contact list', () => {
    assert.throws(() => parse(['--store', 'mysql']), /--store must be embedded or production/);
    assert.throws(() => parse(['--store', 'production', '--node-id', 'a b']), /--node-id/);
    assert.throws(() => parse(['--store', 'production', '--cassandra', ',']), /--cassandra/);
  });

  it('reads host, port and database from a Redis URL', () => {
    assert.deepEqual(redisConnection('redis://10.0.0.5:6380/2'), { host: '10.0.0.5', port: 6380, db: 2 });
    assert.deepEqual(redisConnection('redis://cache'), { host: 'cache', port: 6379 });
    assert.throws(() => redisConnection('http://cache'), /redis:\/\//);
    assert.throws(() => redisConnection('redis://cache/x'), /database/);
  });
});
