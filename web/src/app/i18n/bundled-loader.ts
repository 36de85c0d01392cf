import { Injectable } from '@angular/core';
import { TranslateLoader, TranslationObject } from '@ngx-translate/core';
import { Observable, of } from 'rxjs';
import { EN } from './en';
import { TH } from './th';

const BUNDLED: Record<string, TranslationObject> = { en: EN, th: TH };

/** Translations ship inside the bundle: two small tables, no extra request, no flash of keys. */
@Injectable()
export class BundledTranslateLoader implements TranslateLoader {
  getTranslation(lang: string): Observable<TranslationObject> {
    return of(BUNDLED[lang] ?? EN);
  }
}
