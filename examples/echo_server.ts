// TCP echo server using streams, as in the asyncio docs ("TCP echo server using streams").
// Run: npx tsx examples/echo_server.ts [port]   (default 8888; Ctrl-C stops it)
import { asyncWith, coroutine, run } from 'tsyncio';
import { type StreamReader, type StreamWriter, startServer } from 'tsyncio/node';

const port = Number(process.argv[2] ?? 8888);

const handleEcho = coroutine(function* handleEcho(reader: StreamReader, writer: StreamWriter) {
  const data = yield* reader.read(100);
  const message = data.toString();
  const [host, peerPort] = writer.getExtraInfo('peername') as [string, number];

  console.log(`Received '${message}' from ('${host}', ${peerPort})`);

  console.log(`Send: '${message}'`);
  writer.write(data);
  yield* writer.drain();

  console.log('Close the connection');
  writer.close();
  yield* writer.waitClosed();
});

const main = coroutine(function* main() {
  const server = yield* startServer(handleEcho, '127.0.0.1', port);

  const addrs = server.sockets
    .map((sock) => {
      const [host, p] = sock.getsockname() as [string, number];
      return `('${host}', ${p})`;
    })
    .join(', ');
  console.log(`Serving on ${addrs}`);

  yield* asyncWith(server, function* () {
    yield* server.serveForever();
  });
});

await run(main());
