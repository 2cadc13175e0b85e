import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

type Target = Parameters<Reflector['getAllAndOverride']>[1][number];

/**
 * Nest's Reflector with `getAllAndOverride(key, [handler, class])` remembered per handler, class and
 * key. Route metadata is fixed once the controllers are loaded, while the global guards asked
 * reflect-metadata again on every request: the throttler alone looks up six keys on the handler and
 * on the class. The guards take this instead of the Reflector; any other lookup is Reflector's own.
 */
@Injectable()
export class CachedReflector extends Reflector {
  private readonly answers = new WeakMap<Target, WeakMap<Target, Map<unknown, unknown>>>();

  override getAllAndOverride<TResult = unknown, TKey = unknown>(key: TKey, targets: Target[]): TResult {
    if (targets.length !== 2) return super.getAllAndOverride(key as never, targets) as TResult;
    const [handler, controller] = targets;
    let byController = this.answers.get(handler);
    if (!byController) this.answers.set(handler, (byController = new WeakMap()));
    let byKey = byController.get(controller);
    if (!byKey) byController.set(controller, (byKey = new Map()));
    if (byKey.has(key)) return byKey.get(key) as TResult;
    const answer = super.getAllAndOverride(key as never, targets) as TResult;
    byKey.set(key, answer);
    return answer;
  }
}
