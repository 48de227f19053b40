/** Baseline for connection memory: a TCP server that only holds its sockets and reads them. */
import { createServer, type Socket } from 'node:net';

const sockets = new Set<Socket>();
const server = createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on('data', () => undefined);
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log('tern listening (bare sockets)'));
