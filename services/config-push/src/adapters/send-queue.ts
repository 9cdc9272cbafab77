/** What a bounded writer writes to (a gRPC server stream). */
export interface MessageSink {
  write(msg: Buffer): unknown;
}

/**
 * Writes one stream's responses, counting per type the bytes sent since the client last
 * answered (ACK or NACK of the latest response of that type). gRPC's write callbacks do not
 * wait for HTTP/2 flow control, so the transport cannot say what a client has not read; an
 * xDS client that reads answers each response. A write that would take the unanswered
 * total over `limit` is not made: `overflow` is told instead (and closes the stream), so a
 * client that stops reading or answering costs at most `limit` bytes.
 */
export class BoundedWriter {
  private readonly unanswered = new Map<string, number>();
  private total = 0;
  overflowed = false;

  constructor(
    private readonly sink: MessageSink,
    private readonly limit: number,
    private readonly overflow: (wouldQueue: number) => void,
  ) {}

  get queued(): number {
    return this.total;
  }

  write(msg: Buffer, type: string): boolean {
    if (this.overflowed) return false;
    if (this.total > 0 && this.total + msg.length > this.limit) {
      this.overflowed = true;
      this.overflow(this.total + msg.length);
      return false;
    }
    this.total += msg.length;
    this.unanswered.set(type, (this.unanswered.get(type) ?? 0) + msg.length);
    this.sink.write(msg);
    return true;
  }

  /** The client answered the latest response of this type: everything of it before was read. */
  answered(type: string): void {
    this.total -= this.unanswered.get(type) ?? 0;
    this.unanswered.delete(type);
  }
}
