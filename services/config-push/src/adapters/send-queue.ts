/** What a bounded writer writes to (a gRPC server stream). */
export interface MessageSink {
  write(msg: Buffer, cb: () => void): unknown;
}

/**
 * Writes to one stream, counting the bytes its client has not taken yet (a write's callback
 * runs once HTTP/2 flow control lets the bytes out). A write that would take the count over
 * `limit` is not made: `overflow` is told instead (and the stream is closed by it), so a
 * client that stops reading costs at most `limit` bytes of server memory.
 */
export class BoundedWriter {
  queued = 0;
  overflowed = false;

  constructor(
    private readonly sink: MessageSink,
    private readonly limit: number,
    private readonly overflow: (wouldQueue: number) => void,
  ) {}

  write(msg: Buffer): boolean {
    if (this.overflowed) return false;
    if (this.queued > 0 && this.queued + msg.length > this.limit) {
      this.overflowed = true;
      this.overflow(this.queued + msg.length);
      return false;
    }
    this.queued += msg.length;
    this.sink.write(msg, () => {
      this.queued -= msg.length;
    });
    return true;
  }
}
