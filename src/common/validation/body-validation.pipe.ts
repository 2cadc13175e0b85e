import { type ArgumentMetadata, Injectable, type Type, ValidationPipe } from '@nestjs/common';
import { validateSync } from 'class-validator';

import { keepRuleLookups } from './rule-lookups.js';

const FLAT = Symbol('flat-body');

/**
 * Marks a request-body DTO whose fields are validated where they stand: it declares no
 * class-transformer conversions, and what it holds beyond its own fields (an event list, a metadata
 * object) is checked by its own rules or by the service. Such a body is validated without the deep
 * copy and the deep walks the generic pipe makes of every body (class-transformer's instance, the
 * binary scan, the asynchronous validation), which for a 1,000-event batch cost more Node CPU than
 * recording it.
 */
export function FlatBody(): ClassDecorator {
  return (target) => Reflect.defineMetadata(FLAT, true, target);
}

/** Keys that, assigned onto an instance, would not be plain fields (the generic path handles them). */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The app's global pipe: Nest's ValidationPipe (whitelist, forbidNonWhitelisted, transform), with a
 * shallow path for @FlatBody() bodies that answers the same: the same decorators checked with the
 * same options, the same 400 for a violation, the DTO instance handed to the handler.
 */
@Injectable()
export class BodyValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true });
    keepRuleLookups();
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype as Type<object> | undefined;
    if (metadata.type !== 'body' || !metatype || !Reflect.getMetadata(FLAT, metatype) || !isPlainObject(value)) {
      return super.transform(value, metadata);
    }
    // As the generic path does: `__proto__` keys, at any depth, are dropped (a walk, not a copy).
    this.stripProtoKeys(value);
    if (Object.keys(value).some((key) => UNSAFE_KEYS.has(key))) return super.transform(value, metadata);
    const entity = Object.assign(new metatype(), value);
    const errors = validateSync(entity, { ...this.validatorOptions, validationError: { target: false } });
    if (errors.length > 0) {
      this.stripParentErrorValues(errors);
      throw await this.exceptionFactory(errors);
    }
    return entity;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}
