/**
 * The last N bytes of a stream, in a fixed ring: memory stays at N however much flows through.
 * Used for what the chat shows of a job and for the failure sentence built from stderr.
 */

export class TailBuffer {
  private readonly ring: Buffer;
  /** Next write position. */
  private at = 0;
  private filled = false;
  /** Bytes ever written. */
  total = 0;

  constructor(readonly capacity: number) {
    this.ring = Buffer.alloc(capacity);
  }

  write(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.capacity === 0) return;
    let data = chunk;
    if (data.length >= this.capacity) {
      data.copy(this.ring, 0, data.length - this.capacity);
      this.at = 0;
      this.filled = true;
      return;
    }
    const first = Math.min(data.length, this.capacity - this.at);
    data.copy(this.ring, this.at, 0, first);
    if (first < data.length) {
      data = data.subarray(first);
      data.copy(this.ring, 0);
      this.at = data.length;
      this.filled = true;
    } else {
      this.at += first;
      if (this.at === this.capacity) {
        this.at = 0;
        this.filled = true;
      }
    }
  }

  /** The kept bytes, oldest first. */
  bytes(): Buffer {
    if (!this.filled) return Buffer.from(this.ring.subarray(0, this.at));
    return Buffer.concat([this.ring.subarray(this.at), this.ring.subarray(0, this.at)]);
  }

  /**
   * The kept bytes as text. When the ring has wrapped, its first bytes may be the end of a
   * multi-byte character cut in two; those continuation bytes are dropped rather than shown as �.
   */
  text(): string {
    let bytes = this.bytes();
    if (this.filled || this.total > this.capacity) {
      let skip = 0;
      while (skip < bytes.length && skip < 3 && ((bytes[skip] as number) & 0xc0) === 0x80) skip++;
      bytes = bytes.subarray(skip);
    }
    return bytes.toString('utf8');
  }
}
