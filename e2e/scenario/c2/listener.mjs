// The reference attack's COMMAND-AND-CONTROL listener — a test artefact. Accepts the implant's
// frames (4-byte big-endian length, "EXF1", 8-byte sequence, token) and logs each one as a JSON
// line with the receive time, so tests can compare what the cockpit measured with the truth.
//   C2_LISTEN  address:port to listen on
import net from 'node:net';

const [host, port] = (process.env.C2_LISTEN ?? '127.0.0.1:9443').split(/:(?=\d+$)/);
const server = net.createServer((socket) => {
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 4) {
      const length = buffer.readUInt32BE(0);
      if (buffer.length < 4 + length) break;
      const frame = buffer.subarray(4, 4 + length);
      buffer = buffer.subarray(4 + length);
      console.log(JSON.stringify({
        msg: 'frame', atMs: Date.now(), bytes: 4 + length, magic: frame.subarray(0, 4).toString('latin1'),
        seq: Number(frame.readBigUInt64BE(4)), tokenBytes: frame.length - 12, from: `${socket.remoteAddress}:${socket.remotePort}`,
      }));
    }
  });
  socket.on('error', () => {});
});
server.listen(Number(port), host, () => console.log(JSON.stringify({ msg: 'c2 listening', host, port: Number(port) })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
