// UDP echo server and client with datagram protocols, as in the asyncio docs ("UDP Echo Server" and
// "UDP Echo Client"), both in one program. A Python version ports by renaming: datagram_received →
// datagramReceived, loop.create_datagram_endpoint → loop.createDatagramEndpoint, await → yield*.
// Run: npx tsx examples/udp_echo.ts
import { coroutine, type Future, getRunningLoop, run } from 'tsyncio';
import { type Address, DatagramProtocol, type DatagramTransport } from 'tsyncio/node';

class EchoServerProtocol extends DatagramProtocol {
  transport!: DatagramTransport;

  override connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
  }

  override datagramReceived(data: Buffer, addr: Address): void {
    const message = data.toString();
    console.log(`Received '${message}' from ${(addr as [string, number])[0]}`);
    console.log(`Send '${message}' back`);
    this.transport.sendto(data, addr);
  }
}

class EchoClientProtocol extends DatagramProtocol {
  transport!: DatagramTransport;

  constructor(
    readonly message: string,
    readonly onConLost: Future<boolean>,
  ) {
    super();
  }

  override connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
    console.log('Send:', this.message);
    this.transport.sendto(Buffer.from(this.message));
  }

  override datagramReceived(data: Buffer, _addr: Address): void {
    console.log('Received:', data.toString());
    console.log('Close the socket');
    this.transport.close();
  }

  override errorReceived(exc: unknown): void {
    console.log('Error received:', exc);
  }

  override connectionLost(_exc: unknown): void {
    console.log('Connection closed');
    this.onConLost.setResult(true);
  }
}

const main = coroutine(function* main() {
  const loop = getRunningLoop();
  console.log('Starting UDP server');
  // One protocol instance serves all clients; port 0 picks a free port.
  const [server] = yield* loop.createDatagramEndpoint(() => new EchoServerProtocol(), {
    localAddr: ['127.0.0.1', 0],
  });
  const serverAddr = server.getExtraInfo('sockname') as [string, number];

  const onConLost = loop.createFuture<boolean>();
  const [client] = yield* loop.createDatagramEndpoint(
    () => new EchoClientProtocol('Hello World!', onConLost),
    { remoteAddr: serverAddr },
  );
  try {
    yield* onConLost;
  } finally {
    client.close();
    server.close();
  }
});

await run(main());
