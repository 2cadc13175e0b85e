import type { DynamicModule, Type } from '@nestjs/common';

/**
 * What a route's owner is handed by the composition root: the modules that provide it (`imports`) and
 * the provider, from one of them, that stands for the owner's `token`.
 */
export interface Handed<T> {
  imports: Type[];
  use: Type<T>;
}

/**
 * The dynamic module of routes whose reader sits above their owner, a route prefix served by a
 * non-owner (docs/architecture.md "How the structure is counted"): `module` serves `controllers` with
 * `token` filled by the provider the composition root hands in, so the owner's folder never imports
 * the reader's. `imports`: what the controllers need of the owner's own folder.
 */
export function handedRoutes<T>(
  module: Type,
  controllers: Type[],
  token: symbol,
  handed: Handed<T>,
  imports: Type[] = [],
): DynamicModule {
  return {
    module,
    imports: [...imports, ...handed.imports],
    controllers,
    providers: [{ provide: token, useExisting: handed.use }],
  };
}
