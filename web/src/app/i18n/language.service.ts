import { DOCUMENT } from '@angular/common';
import { inject, Injectable, signal } from '@angular/core';
import { TranslateService } from '@ngx-translate/core';

export type Language = 'en' | 'th';
export const LANGUAGES: readonly Language[] = ['en', 'th'];
const STORAGE_KEY = 'ticketing.lang';

/** The UI language: English or Thai, remembered in this browser. */
@Injectable({ providedIn: 'root' })
export class LanguageService {
  private readonly translate = inject(TranslateService);
  private readonly document = inject(DOCUMENT);
  readonly current = signal<Language>(initialLanguage());

  init(): void {
    this.use(this.current());
  }

  use(language: Language): void {
    this.current.set(language);
    this.translate.use(language);
    this.document.documentElement.lang = language;
    try {
      localStorage.setItem(STORAGE_KEY, language);
    } catch {
      // Storage may be disabled (private mode); the choice then lasts for this page only.
    }
  }
}

function initialLanguage(): Language {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'en' || stored === 'th') return stored;
  } catch {
    // fall through to the browser's preference
  }
  return typeof navigator !== 'undefined' && navigator.language?.startsWith('th') ? 'th' : 'en';
}
