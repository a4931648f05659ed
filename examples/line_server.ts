// A line protocol server and client written one level below streams, with Protocol subclasses and
// loop.createServer / loop.createConnection (how database drivers and Redis/MQTT clients are written).
// The server answers each line with it upper-cased and closes on "quit"; bytes are framed by hand, so
// lines split across TCP segments or packed into one work the same.
// Run: npx tsx examples/line_server.ts
import { coroutine, type Future, getRunningLoop, run } from 'tsyncio';
import { Protocol, type Transport } from 'tsyncio/node';

class LineServerProtocol extends Protocol {
  transport!: Transport;
  buffer = Buffer.alloc(0);

  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }

  override dataReceived(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (let i = this.buffer.indexOf(10); i !== -1; i = this.buffer.indexOf(10)) {
      const line = this.buffer.subarray(0, i).toString();
      this.buffer = this.buffer.subarray(i + 1);
      if (line === 'quit') {
        this.transport.write('bye\n');
        this.transport.close();
        return;
      }
      this.transport.write(`${line.toUpperCase()}\n`);
    }
  }

  override eofReceived(): boolean {
    // Keep writing after the client's EOF? No: returning false lets the transport close.
    return false;
  }
}

class LineClientProtocol extends Protocol {
  transport!: Transport;
  received = '';

  constructor(
    readonly lines: string[],
    readonly done: Future<string>,
  ) {
    super();
  }

  override connectionMade(transport: Transport): void {
    this.transport = transport;
    // Everything in one write: the server must split it into lines.
    transport.write(this.lines.map((l) => `${l}\n`).join(''));
  }

  override dataReceived(data: Buffer): void {
    this.received += data.toString();
  }

  override connectionLost(exc: unknown): void {
    if (exc) this.done.setException(exc);
    else this.done.setResult(this.received);
  }
}

const main = coroutine(function* main() {
  const loop = getRunningLoop();
  const server = yield* loop.createServer(() => new LineServerProtocol(), '127.0.0.1', 0);
  const [, port] = server.sockets[0]!.getsockname() as [string, number];
  console.log('Serving lines');

  const done = loop.createFuture<string>();
  yield* loop.createConnection(
    () => new LineClientProtocol(['hello', 'protocol world', 'quit'], done),
    '127.0.0.1',
    port,
  );
  const transcript = yield* done;
  for (const line of transcript.trimEnd().split('\n')) console.log(`Received: ${line}`);

  server.close();
  yield* server.waitClosed();
  console.log('Server closed');
});

await run(main());
