import { TranslateService } from '@ngx-translate/core';
import { ApiError } from '../core/api-error';

/**
 * What to show for an API error: a translation of its code when this language has one,
 * else the contract's own `detail` message.
 */
export function errorMessage(translate: TranslateService, error: ApiError): string {
  const key = `errors.${error.code}`;
  const translated = translate.instant(key, { available: error.available ?? 0 });
  return typeof translated === 'string' && translated !== key ? translated : error.detail;
}
