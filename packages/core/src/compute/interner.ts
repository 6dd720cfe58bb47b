import { compareUtf8 } from '../utf8-order.js';

/**
 * Maps strings to dense integer ids (0, 1, 2, … in first-seen order) so the
 * aggregators count in typed arrays instead of string-keyed maps.
 * @since 0.1.0
 */
export class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];

  get size(): number {
    return this.values.length;
  }

  intern(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  lookup(value: string): number | undefined {
    return this.ids.get(value);
  }

  /** `rank[id]` = position of the value in UTF-8 byte order; makes id comparisons integer compares. */
  utf8Ranks(): Uint32Array {
    const order = Array.from({ length: this.values.length }, (_, i) => i);
    const values = this.values;
    order.sort((a, b) => compareUtf8(values[a]!, values[b]!));
    const rank = new Uint32Array(order.length);
    for (let i = 0; i < order.length; i++) rank[order[i]!] = i;
    return rank;
  }
}
