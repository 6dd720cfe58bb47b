import { utf8Ranks } from '../utf8-order.js';

/**
 * Maps strings to dense integer ids (0, 1, 2, … in first-seen order) so the
 * aggregators count in typed arrays instead of string-keyed maps.
 * @since 0.1.0
 */
export class Interner {
  private ids: Map<string, number> | undefined = new Map<string, number>();
  readonly values: string[] = [];

  get size(): number {
    return this.values.length;
  }

  intern(value: string): number {
    const ids = this.lookups();
    let id = ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  lookup(value: string): number | undefined {
    return this.lookups().get(value);
  }

  /**
   * Lets the value → id map go once every value is interned (ids and
   * `values` stay). A day's session dictionary holds millions of entries
   * (~35 bytes each at 50M events, next to the strings) that compute never
   * looks up. Interning or looking up afterwards throws.
   * @since 0.6.0
   */
  releaseLookups(): void {
    this.ids = undefined;
  }

  private lookups(): Map<string, number> {
    if (!this.ids) throw new Error('interner lookups were released (releaseLookups): nothing more can be interned');
    return this.ids;
  }

  /** `rank[id]` = position of the value in UTF-8 byte order; makes id comparisons integer compares. */
  utf8Ranks(): Uint32Array {
    return utf8Ranks(this.values);
  }
}
