// TCP echo client using streams, as in the asyncio docs ("TCP echo client using streams").
// Run: npx tsx examples/echo_client.ts [port]   (with examples/echo_server.ts running)
import { coroutine, run } from 'tsyncio';
import { openConnection } from 'tsyncio/node';

const port = Number(process.argv[2] ?? 8888);

const tcpEchoClient = coroutine(function* tcpEchoClient(message: string) {
  const [reader, writer] = yield* openConnection('127.0.0.1', port);

  console.log(`Send: '${message}'`);
  writer.write(message);
  yield* writer.drain();

  const data = yield* reader.read(100);
  console.log(`Received: '${data.toString()}'`);

  console.log('Close the connection');
  writer.close();
  yield* writer.waitClosed();
});

await run(tcpEchoClient('Hello World!'));
