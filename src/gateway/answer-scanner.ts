/** The top-level fields of a whole answer that settle it (usage-reader.ts readAnswer reads them). */
const KEPT_TOP = new Set(['usage', 'service_tier', 'stop_reason', 'incomplete_details']);
/** The longest text of one kept value (a usage object is a few hundred bytes); a longer one is dropped. */
const KEPT_BYTES = 64 * 1024;
/** The longest key the scan compares (the kept ones are short). */
const KEY_BYTES = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

interface Frame {
  object: boolean;
  /** The key whose value is read now (objects). */
  key: string;
  /** What comes next: a key (objects), a value, or a comma or the end. */
  next: 'key' | 'value' | 'after';
}

/**
 * Reads a non-streamed JSON answer as it passes, chunk by chunk, and keeps only what settles it: the
 * top-level `usage`, `service_tier`, `stop_reason` and `incomplete_details`, and each choice's
 * `finish_reason` (each at most KEPT_BYTES of text). The answer itself is never held: its usage, at
 * the end of the JSON, is read however long the answer is. Bytes, not characters: a UTF-8 sequence's
 * bytes are never JSON's structural characters.
 */
export class AnswerScanner {
  private readonly stack: Frame[] = [];
  private inString = false;
  private escaped = false;
  /** A key being read: its first bytes (null: the string is not a key). */
  private key: number[] | null = null;
  private inScalar = false;
  /** The value being kept: its name, the depth it started at, its text so far. */
  private capture: { name: string; depth: number; parts: Buffer[]; bytes: number } | null = null;
  private readonly kept = new Map<string, string>();
  private readonly finishReasons: string[] = [];
  private topIsObject = false;

  feed(chunk: Uint8Array): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.key !== null) {
            this.top()!.key = Buffer.from(this.key).toString('utf8');
            this.key = null;
          } else if (this.capture !== null && this.capture.depth === this.stack.length)
            from = this.keep(bytes, from, i + 1);
        } else if (this.key !== null && this.key.length < KEY_BYTES) this.key.push(c);
        continue;
      }
      if (this.inScalar) {
        if (!(isSpace(c) || c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY)) continue;
        this.inScalar = false;
        if (this.capture !== null && this.capture.depth === this.stack.length) from = this.keep(bytes, from, i);
      }
      if (isSpace(c)) continue;
      const top = this.top();
      if (c === QUOTE && top?.object && top.next === 'key') {
        this.inString = true;
        this.key = [];
        continue;
      }
      if (c === COLON) {
        if (top) top.next = 'value';
        continue;
      }
      if (c === COMMA) {
        if (top) top.next = top.object ? 'key' : 'value';
        continue;
      }
      if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        this.stack.pop();
        if (this.capture !== null && this.capture.depth === this.stack.length) from = this.keep(bytes, from, i + 1);
        continue;
      }
      // A value starts here.
      if (top) top.next = 'after';
      if (this.capture === null && this.wanted() !== null) {
        this.capture = { name: this.wanted()!, depth: this.stack.length, parts: [], bytes: 0 };
        from = i;
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (this.stack.length === 0) this.topIsObject = c === OPEN_OBJECT;
        this.stack.push({ object: c === OPEN_OBJECT, key: '', next: c === OPEN_OBJECT ? 'key' : 'value' });
      } else if (c === QUOTE) this.inString = true;
      else this.inScalar = true;
    }
    if (this.capture !== null) this.add(bytes.subarray(from));
  }

  /**
   * What the scan kept, as the answer's own fields (readAnswer reads nothing else); null when the
   * answer was not a JSON object.
   */
  answer(): Record<string, unknown> | null {
    // A number at the very end of the answer ends with it.
    if (this.inScalar && this.capture !== null) this.keep(Buffer.alloc(0), 0, 0);
    if (!this.topIsObject) return null;
    const body: Record<string, unknown> = {};
    for (const [name, text] of this.kept) {
      try {
        body[name] = JSON.parse(text);
      } catch {
        // A value the scan could not read is as absent.
      }
    }
    if (this.finishReasons.length > 0) body.choices = this.finishReasons.map((reason) => ({ finish_reason: reason }));
    return body;
  }

  private top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** The name of the value starting now if it is kept: a kept top-level field, or a choice's finish_reason. */
  private wanted(): string | null {
    const [first, second, third] = this.stack;
    if (this.stack.length === 1 && first.object && KEPT_TOP.has(first.key)) return first.key;
    if (
      this.stack.length === 3 &&
      first.object &&
      first.key === 'choices' &&
      !second.object &&
      third.object &&
      third.key === 'finish_reason'
    )
      return 'finish_reason';
    return null;
  }

  private add(part: Buffer): void {
    const capture = this.capture!;
    if (capture.bytes > KEPT_BYTES) return;
    capture.bytes += part.length;
    capture.parts.push(Buffer.from(part));
  }

  /** The kept value ends before `end`: stored, and the scan keeps nothing until the next one. */
  private keep(bytes: Buffer, from: number, end: number): number {
    this.add(bytes.subarray(from, end));
    const { name, parts, bytes: length } = this.capture!;
    this.capture = null;
    if (length <= KEPT_BYTES) {
      const text = Buffer.concat(parts).toString('utf8');
      if (name !== 'finish_reason') this.kept.set(name, text);
      else {
        try {
          const reason: unknown = JSON.parse(text);
          if (typeof reason === 'string') this.finishReasons.push(reason);
        } catch {
          // Not a reason.
        }
      }
    }
    return end;
  }
}
