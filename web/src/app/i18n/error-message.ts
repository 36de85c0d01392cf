import { inject, Pipe, PipeTransform } from '@angular/core';
import { TranslateService } from '@ngx-translate/core';
import { ApiError } from '../core/api-error';

/**
 * What to show for an API error: a translation of its code when this language has one (with
 * the answer's numbers: what is `available`, what `remaining`), else the contract's own
 * `detail` message. A 429 (sign-in, registration, password change) says when to try again,
 * from `Retry-After`.
 */
export function errorMessage(translate: TranslateService, error: ApiError): string {
  if (error.status === 429) {
    return error.retryAfterSeconds
      ? (translate.instant('common.tooMany', { seconds: error.retryAfterSeconds }) as string)
      : (translate.instant('common.tooManyLater') as string);
  }
  const code =
    error.code === 'customer_limit_reached' && error.remaining === 0
      ? 'customer_limit_reached_none'
      : error.code;
  const key = `errors.${code}`;
  const translated = translate.instant(key, {
    available: error.available ?? 0,
    remaining: error.remaining ?? 0,
  });
  return typeof translated === 'string' && translated !== key ? translated : error.detail;
}

/**
 * `{{ error | apiError: lang() }}`: an API error's message in the current language, shown again
 * in the other language when the reader switches (the language is the pipe's argument, so a
 * switch re-runs it).
 */
@Pipe({ name: 'apiError' })
export class ApiErrorPipe implements PipeTransform {
  private readonly translate = inject(TranslateService);

  transform(error: ApiError | null | undefined, _lang: string): string {
    return error ? errorMessage(this.translate, error) : '';
  }
}
