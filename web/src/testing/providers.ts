import { provideTranslateLoader, provideTranslateService } from '@ngx-translate/core';
import { BundledTranslateLoader } from '../app/i18n/bundled-loader';

/** English translations for component tests, exactly as the app ships them. */
export function provideTestTranslations() {
  return provideTranslateService({
    loader: provideTranslateLoader(BundledTranslateLoader),
    lang: 'en',
    fallbackLang: 'en',
  });
}
