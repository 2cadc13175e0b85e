export { meterMiddleware, type MeterMiddleware } from './ai-sdk.js';
export { type ProviderParams, type Termination, USAGE_FORMATS, type UsageFormat } from './formats.js';
export {
  createMeter,
  type Meter,
  type MeteredStream,
  type MeterOptions,
  type ModelMismatch,
  type ProviderCall,
  type ProviderCallContext,
  type StreamOptions,
} from './meter.js';
export {
  type CheckOptions,
  type FeatureCheck,
  MeterError,
  MeterRefusedError,
  type MeterSession,
  type MeterSettlement,
  MeterUnavailableError,
  type RetryOptions,
} from './service.js';
