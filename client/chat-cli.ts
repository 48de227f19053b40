/**
 * A small interactive chat on the SDK. Lines "@user text" send to a user; "#group text" posts to
 * a group; "/group new NAME user…", "/group add ID user…", "/group leave ID", "/group members ID"
 * manage groups; "/history user" or "/history #group" shows the last messages; "/room join NAME",
 * "/room leave NAME", "/room NAME text" and "/room gift NAME text" (a reliable message) use live
 * rooms; "/quit" leaves.
 */
import { createInterface } from 'node:readline';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { GROUP_EVENT_KIND_BASE, Platform } from '../protocol/bodies.ts';
import { directConversationId, groupConversationId, groupIdOf } from '../protocol/conversation-ids.ts';
import { Client } from './client.ts';

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    password: { type: 'string' },
    register: { type: 'boolean' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7000' },
    device: { type: 'string' },
    tls: { type: 'boolean' },
    insecure: { type: 'boolean' },
  },
});

if (!values.user || !values.password) {
  console.error('usage: npm run chat -- --user NAME --password PW [--register] [--host H] [--port P] [--tls [--insecure]]');
  process.exit(2);
}

const user = values.user;
const client = new Client({
  endpoint: {
    host: values.host,
    port: Number(values.port),
    ...(values.tls ? { tls: { servername: values.host, rejectUnauthorized: !values.insecure } } : {}),
  },
  userId: user,
  password: values.password,
  register: values.register ?? false,
  deviceId: values.device ?? `cli-${hostname()}`,
  platform: Platform.desktop,
  clientName: 'tern-chat/0.1',
});

const time = (ms: number) => new Date(ms).toLocaleTimeString();
const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: `${user}> ` });
const print = (line: string) => {
  process.stdout.write(`\r${line}\n`);
  rl.prompt(true);
};

client.on('message', (m) => {
  const where = groupIdOf(m.conversationId) !== undefined ? `#${m.to} ` : '';
  const what = m.kind >= GROUP_EVENT_KIND_BASE ? `(group event ${m.content})` : m.content;
  print(`[${time(m.sentAt)}] ${where}${m.from === user ? `you → ${m.to}` : m.from}: ${what}`);
});
client.on('status', (s) => s !== 'ready' && print(`(${s})`));
client.on('kicked', (k) => print(`(kicked: ${k.message})`));
client.on('serverError', (e) => print(`(server error ${e.code}: ${e.message})`));
client.on('roomMessage', (roomId, m) => print(`[${time(m.sentAt)}] #${roomId} ${m.from}${m.seq > 0 ? ` 🎁${m.seq}` : ''}: ${m.content}`));
client.on('roomDropped', (roomId, count) => print(`(#${roomId}: ${count} messages skipped, reading too slowly)`));
client.on('roomLeft', (left) => print(`(left #${left.roomId}: too slow; "/room join ${left.roomId}" to come back)`));

/** "/room join NAME", "/room leave NAME", "/room gift NAME text", "/room NAME text". */
async function room(args: string): Promise<void> {
  const [verb, name, ...rest] = args.split(/\s+/);
  if (verb === 'join' && name) {
    const joined = await client.joinRoom(name);
    return print(`  joined #${name}: ${joined.online} online`);
  }
  if (verb === 'leave' && name) {
    await client.leaveRoom(name);
    return print(`  left #${name}`);
  }
  if (verb === 'gift' && name && rest.length > 0) {
    const ack = await client.sendRoom(name, rest.join(' '), { reliable: true, kind: 7 });
    return print(`  ✓ gift #${ack.seq} in #${name}`);
  }
  if (verb && name) {
    await client.sendRoom(verb, [name, ...rest].join(' '));
    return;
  }
  print('type "/room join NAME", "/room leave NAME", "/room NAME text" or "/room gift NAME text"');
}

async function handle(line: string): Promise<void> {
  const text = line.trim();
  if (text === '/quit') {
    client.close();
    rl.close();
    return;
  }
  const group = /^\/group\s+(new|add|leave|members)\s+(\S+)\s*(.*)$/.exec(text);
  if (group) return handleGroup(group[1] as string, group[2] as string, (group[3] as string).split(/\s+/).filter(Boolean));
  const post = /^#(\S+)\s+(.+)$/.exec(text);
  if (post) {
    const ack = await client.sendToGroup(post[1] as string, post[2] as string);
    print(`  ✓ #${ack.seq} at ${time(ack.serverTime)}`);
    return;
  }
  const roomCommand = /^\/room\s+(.+)$/.exec(text);
  if (roomCommand) return room(roomCommand[1] as string);
  const history = /^\/history\s+(\S+)/.exec(text);
  if (history) {
    const peer = history[1] as string;
    const conversationId = peer.startsWith('#') ? groupConversationId(peer.slice(1)) : directConversationId(user, peer);
    const page = await client.history(conversationId);
    for (const m of [...page.messages].reverse()) print(`  #${m.seq} [${time(m.sentAt)}] ${m.from}: ${m.recalled ? '(recalled)' : m.content}`);
    return;
  }
  const send = /^@(\S+)\s+(.+)$/.exec(text);
  if (!send) {
    if (text) print('type "@user message", "#group message", "/group new|add|leave|members …", "/history user|#group", "/room …" or "/quit"');
    return;
  }
  const ack = await client.send(send[1] as string, send[2] as string);
  print(`  ✓ #${ack.seq} at ${time(ack.serverTime)}`);
}

async function handleGroup(command: string, target: string, users: string[]): Promise<void> {
  if (command === 'new') {
    const info = await client.groups.create(target, users);
    print(`  group "${info.name}" created: post with #${info.groupId}`);
  } else if (command === 'add') {
    await client.groups.invite(target, users);
    print(`  added ${users.join(', ')}`);
  } else if (command === 'leave') {
    await client.groups.leave(target);
    print(`  left #${target}`);
  } else {
    const page = await client.groups.members(target);
    print(`  ${page.members.map((m) => m.userId).join(', ')}${page.hasMore ? ', …' : ''}`);
  }
}

client
  .connect()
  .then((session) => {
    print(`logged in as ${session.userId} (device ${session.deviceId}); inbox at version ${session.version}`);
    rl.on('line', (line) => {
      handle(line).catch((error: Error) => print(`(error: ${error.message})`));
    });
    rl.prompt();
  })
  .catch((error: Error) => {
    console.error(`could not log in: ${error.message}`);
    process.exit(1);
  });
