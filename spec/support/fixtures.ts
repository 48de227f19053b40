/**
 * The setup specs that run a server share: mocha hooks that give each test a fresh server (a
 * spawned process with its own directory, or one in this process) and close, after the test,
 * the server and everything the test opened on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnServer, stopProcess, type ServerProcess } from './process.ts';
import { RawDevice } from './raw-device.ts';
import { startTestServer, type TestServer } from './server.ts';

interface Closable {
  close(): void;
}

/** Things a test opened, closed after it in the order they were opened. */
class Closer {
  private readonly open: Closable[] = [];

  add<T extends Closable>(thing: T): T {
    this.open.push(thing);
    return thing;
  }

  closeAll(): void {
    for (const thing of this.open.splice(0)) thing.close();
  }
}

export interface SpawnedServer {
  /** The test's own directory (for files the test writes beside the server's data). */
  readonly dir: string;
  /** The server's `--data-dir`, inside `dir`. */
  readonly dataDir: string;
  /** The process of the last `start`; fails the test when none was started. */
  readonly server: ServerProcess;
  readonly port: number;
  /** Spawns the server on a free port with `dataDir` and a cheap scrypt cost, then `args` (e.g. `--workers`). */
  start(args: readonly string[]): Promise<ServerProcess>;
  /** Kills the server now (SIGKILL), as the hook after the test would. */
  stop(): Promise<void>;
  /** The test ended the process itself (a drain): nothing to kill after it. */
  exited(): void;
  /** A device registered on the server, closed after the test. */
  device(userId: string): Promise<RawDevice>;
  /** Closes `thing` after the test, before the server is killed. */
  closeAfter<T extends Closable>(thing: T): T;
}

/** Hooks of a describe block whose tests spawn the server as a process. */
export function useSpawnedServer(label: string): SpawnedServer {
  const closer = new Closer();
  let dir: string | undefined;
  let spawned: ServerProcess | undefined;
  let port = 0;
  const needDir = () => {
    if (!dir) throw new Error('no test directory outside a test');
    return dir;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), `tern-${label}-`));
  });
  afterEach(async () => {
    closer.closeAll();
    if (spawned) await stopProcess(spawned.child, 'SIGKILL');
    spawned = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const fixture: SpawnedServer = {
    get dir() {
      return needDir();
    },
    get dataDir() {
      return join(needDir(), 'data');
    },
    get server() {
      if (!spawned) throw new Error('no server was started');
      return spawned;
    },
    get port() {
      return port;
    },
    async start(args) {
      port = await freePort();
      spawned = await spawnServer(['--data-dir', fixture.dataDir, '--scrypt-cost', '1024', ...args], port);
      return spawned;
    },
    async stop() {
      if (spawned) await stopProcess(spawned.child, 'SIGKILL');
      spawned = undefined;
    },
    exited() {
      spawned = undefined;
    },
    async device(userId) {
      return closer.add(await RawDevice.register(port, userId));
    },
    closeAfter: (thing) => closer.add(thing),
  };
  return fixture;
}

export interface InProcessServer {
  /** The server of the last `start`; fails the test when none was started. */
  readonly server: TestServer;
  start(options?: Parameters<typeof startTestServer>[0]): Promise<TestServer>;
  /** Stops the server now (the test starts another), closing what was opened on it first. */
  stop(): Promise<void>;
  /** A device registered on the server, closed after the test. */
  device(userId: string): Promise<RawDevice>;
  closeAfter<T extends Closable>(thing: T): T;
}

/** Hooks of a describe block whose tests run a server in this process. */
export function useInProcessServer(): InProcessServer {
  const closer = new Closer();
  let running: TestServer | undefined;
  const stop = async () => {
    closer.closeAll();
    await running?.stop();
    running = undefined;
  };
  afterEach(stop);
  return {
    get server() {
      if (!running) throw new Error('no server was started');
      return running;
    },
    async start(options = {}) {
      running = await startTestServer(options);
      return running;
    },
    stop,
    async device(userId) {
      if (!running) throw new Error('no server was started');
      return closer.add(await RawDevice.register(running.port, userId));
    },
    closeAfter: (thing) => closer.add(thing),
  };
}
