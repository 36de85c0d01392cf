import { provideTranslateLoader, provideTranslateService } from '@ngx-translate/core';
import { RetryPolicy } from '../app/booking/retry-policy';
import { BundledTranslateLoader } from '../app/i18n/bundled-loader';

/** English translations for component tests, exactly as the app ships them. */
export function provideTestTranslations() {
  return provideTranslateService({
    loader: provideTranslateLoader(BundledTranslateLoader),
    lang: 'en',
    fallbackLang: 'en',
  });
}

/**
 * A booking retry policy for tests: no waiting, middle jitter, at most 3 retries, and keys
 * `key-1`, `key-2`, ... in the order they are made.
 */
export function countingKeysPolicy(): RetryPolicy {
  let keys = 0;
  return {
    maxRetries: 3,
    baseDelayMs: 100,
    maxDelayMs: 5000,
    sleep: async () => undefined,
    random: () => 0.5,
    newKey: () => `key-${++keys}`,
  };
}
