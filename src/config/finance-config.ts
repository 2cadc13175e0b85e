import type { EnvReader } from './env-reader.js';

/** The reporting currency and its FX rates (docs/finance.md "The reporting currency"). */
export interface FinanceConfig {
  /** REPORTING_CURRENCY: the currency the FX rates are in and the reports convert to (default usd). */
  reportingCurrency: string;
  /** FX_RATES_URL: where the day's rates are read at start-up and every 24 h (null: only PUT /api/finance/fx-rates). */
  fxRatesUrl: string | null;
  /** FX_RATES_RETRY_SECONDS: how soon a failed or invalid read of FX_RATES_URL is tried again (default 900). */
  fxRatesRetrySeconds: number;
}

export function financeConfig(read: EnvReader): FinanceConfig {
  const reportingCurrency = read.string('REPORTING_CURRENCY', 'usd');
  // The money rule's own list is the engine's (src/common/money/currencies.ts); the finance module checks
  // the code against it at start-up (FxRatesService), this the shape.
  if (
    !/^[a-z]{3}$/.test(reportingCurrency) ||
    !Intl.supportedValuesOf('currency').includes(reportingCurrency.toUpperCase())
  ) {
    read.problems.push(`REPORTING_CURRENCY must be an ISO 4217 code in lowercase (got "${reportingCurrency}")`);
  }
  return {
    reportingCurrency,
    fxRatesUrl: fxRatesUrl(read),
    fxRatesRetrySeconds: read.int('FX_RATES_RETRY_SECONDS', 900, 1, 86_400),
  };
}

function fxRatesUrl(read: EnvReader): string | null {
  const value = read.raw('FX_RATES_URL');
  if (value === undefined) return null;
  let url: URL | null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    read.problems.push('FX_RATES_URL must be an http(s) URL');
    return null;
  }
  return url.toString();
}
