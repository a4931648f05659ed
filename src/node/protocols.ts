/**
 * Protocol base classes (CPython's protocols.py): what a transport calls. Subclass one and override the
 * callbacks you need; every default does nothing, as in Python.
 *
 * The contract a transport keeps (CPython's, and checked by the ported tests): `connectionMade` once,
 * first; then `dataReceived` (or `getBuffer`/`bufferUpdated`) any number of times; then at most one
 * `eofReceived`; `connectionLost` once, last. `pauseWriting`/`resumeWriting` alternate, starting with a
 * pause. All of them run as loop callbacks, never from a Node event handler directly.
 */
import type {
  BaseTransport,
  DatagramTransport,
  ReadTransport,
  SubprocessTransport,
  Transport,
  WriteTransport,
} from './transports.js';

/** An address as Python gives it: [host, port] (IPv6: [host, port, flowinfo, scopeId]) or a path. */
export type Address = readonly [string, number] | readonly [string, number, number, number] | string;

/** The base of all protocols (CPython's BaseProtocol): connection and write flow-control callbacks. */
export class BaseProtocol {
  /** The connection is made; `transport` is how to talk to the peer. */
  connectionMade(_transport: BaseTransport): void {}

  /** The connection is lost or closed: `exc` is the error, or null for a regular close or EOF. */
  connectionLost(_exc: unknown): void {}

  /** The transport's write buffer went over its high-water mark: stop writing until resumeWriting(). */
  pauseWriting(): void {}

  /** The transport's write buffer drained to its low-water mark: writing may go on. */
  resumeWriting(): void {}
}

/** A stream protocol (CPython's Protocol): data arrives as chunks in dataReceived. */
export class Protocol extends BaseProtocol {
  override connectionMade(_transport: Transport | ReadTransport | WriteTransport): void {}

  /** Some bytes arrived (a Node Buffer; any chunking, as TCP gives no boundaries). */
  dataReceived(_data: Buffer): void {}

  /**
   * The peer sent EOF (it will write no more). Return true to keep the transport open for writing
   * (a half-closed connection); anything else closes it. Not called over TLS-less pipes' write side.
   */
  eofReceived(): boolean | undefined | void {}
}

/**
 * A stream protocol that supplies its own receive buffers (CPython's BufferedProtocol): the transport
 * asks getBuffer() for room, fills it and tells bufferUpdated(nbytes) how much it wrote.
 */
export class BufferedProtocol extends BaseProtocol {
  override connectionMade(_transport: Transport | ReadTransport): void {}

  /**
   * A buffer to receive into: at least `sizehint` bytes if `sizehint` > 0 (-1: any size). It must not
   * be empty.
   */
  getBuffer(_sizehint: number): Uint8Array {
    return new Uint8Array(0);
  }

  /** `nbytes` bytes were written at the start of the buffer the last getBuffer() returned. */
  bufferUpdated(_nbytes: number): void {}

  /** As Protocol.eofReceived. */
  eofReceived(): boolean | undefined | void {}
}

/** A datagram (UDP) protocol (CPython's DatagramProtocol). */
export class DatagramProtocol extends BaseProtocol {
  override connectionMade(_transport: DatagramTransport): void {}

  /** A datagram `data` arrived from `addr`. */
  datagramReceived(_data: Buffer, _addr: Address): void {}

  /** A send or receive failed with `exc` (an OSError: e.g. ConnectionRefusedError on a connected socket). */
  errorReceived(_exc: unknown): void {}
}

/** What a subprocess transport calls (CPython's SubprocessProtocol). */
export class SubprocessProtocol extends BaseProtocol {
  override connectionMade(_transport: SubprocessTransport): void {}

  /** The child wrote `data` to its stdout (fd 1) or stderr (fd 2). */
  pipeDataReceived(_fd: number, _data: Buffer): void {}

  /** One of the child's pipes (0, 1 or 2) was closed; `exc` is the error, or null. */
  pipeConnectionLost(_fd: number, _exc: unknown): void {}

  /** The child exited (its pipes may still have data to deliver). */
  processExited(): void {}
}

/** @internal A protocol that receives into its own buffers (duck-typed, as JS objects may not subclass). */
export function isBufferedProtocol(p: unknown): p is BufferedProtocol {
  return p instanceof BufferedProtocol || (typeof p === 'object' && p !== null && 'getBuffer' in p);
}
