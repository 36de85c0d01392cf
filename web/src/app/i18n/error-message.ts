import { TranslateService } from '@ngx-translate/core';
import { ApiError } from '../core/api-error';

/**
 * What to show for an API error: a translation of its code when this language has one,
 * else the contract's own `detail` message. A 429 (sign-in, registration, password change)
 * says when to try again, from `Retry-After`.
 */
export function errorMessage(translate: TranslateService, error: ApiError): string {
  if (error.status === 429) {
    return error.retryAfterSeconds
      ? (translate.instant('common.tooMany', { seconds: error.retryAfterSeconds }) as string)
      : (translate.instant('common.tooManyLater') as string);
  }
  const key = `errors.${error.code}`;
  const translated = translate.instant(key, { available: error.available ?? 0 });
  return typeof translated === 'string' && translated !== key ? translated : error.detail;
}
