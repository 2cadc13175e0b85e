import type { TokenKinds } from '../pricing/pricing-math.js';
import { COMPLETION_KINDS, perField, perKind, PROMPT_KINDS, type TokenKind } from '../pricing/token-kinds.js';
import type { TokenSplit } from './gateway-settlement.js';

/** One way a request's bounds can be billed: the input bound all of one prompt kind, the output bound all of one completion kind. */
export interface BoundSplit {
  input: TokenKind;
  output: TokenKind;
  kinds: TokenKinds;
}

/**
 * Every pairing of a prompt kind with a completion kind, each at its whole bound, in the list's order
 * (docs/gateway.md "Admission: the worst case, held first"). Each kind is priced per token, so no mix
 * of kinds costs more than the dearest of these; the gateway quotes each and holds the dearest.
 */
export function boundSplits(bounds: { input: number; output: number }): BoundSplit[] {
  return PROMPT_KINDS.flatMap((input) =>
    COMPLETION_KINDS.map((output) => {
      const kinds = perKind(() => 0);
      kinds[input] += bounds.input;
      kinds[output] += bounds.output;
      return { input, output, kinds };
    }),
  );
}

/** A split's counts as a session's initialize takes them (every kind's field). */
export function heldSplit(split: BoundSplit): TokenSplit {
  return perField((kind) => split.kinds[kind]);
}
