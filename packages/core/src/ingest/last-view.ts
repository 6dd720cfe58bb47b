/**
 * A `DataView` of the last buffer asked for, made again only when the buffer
 * changes: a chunk's lines share one view, so reading a line's 32-bit words
 * (one little-endian load each, which TurboFan inlines) costs no allocation
 * per line. Each reader keeps its own, so readers of different buffers do not
 * take turns replacing one view.
 */
export class LastView {
  private last: Uint8Array | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));

  /** The view of `b`'s bytes (`b.byteOffset` is its offset 0). */
  for(b: Uint8Array): DataView {
    if (this.last !== b) {
      this.last = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    return this.view;
  }
}
