import { Pipe, PipeTransform } from '@angular/core';

const LOCALES: Record<string, string> = { en: 'en-GB', th: 'th-TH' };

/** `"1500.00" | money: 'THB' : lang` → "฿1,500.00"; money stays a string until shown. */
@Pipe({ name: 'money' })
export class MoneyPipe implements PipeTransform {
  transform(amount: string | number, currency: string, lang: string): string {
    const value = typeof amount === 'number' ? amount : Number(amount);
    try {
      return new Intl.NumberFormat(LOCALES[lang] ?? lang, { style: 'currency', currency }).format(
        value,
      );
    } catch {
      return `${amount} ${currency}`;
    }
  }
}

/**
 * An ISO time in the reader's language. Given a zone (an event's `timezone`), it is shown on
 * that zone's clocks and labelled with it; without one, in the browser's zone (times that
 * belong to no event).
 */
@Pipe({ name: 'when' })
export class WhenPipe implements PipeTransform {
  transform(
    iso: string | null,
    lang: string,
    style: 'full' | 'short' = 'full',
    timeZone?: string | null,
  ): string {
    if (!iso) return '';
    const options: Intl.DateTimeFormatOptions =
      style === 'full'
        ? {
            weekday: 'short',
            day: 'numeric',
            month: 'short',
            year: 'numeric',
            hour: '2-digit',
            minute: '2-digit',
          }
        : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
    if (!timeZone) {
      return new Intl.DateTimeFormat(LOCALES[lang] ?? lang, options).format(new Date(iso));
    }
    try {
      const shown = new Intl.DateTimeFormat(LOCALES[lang] ?? lang, { ...options, timeZone });
      return `${shown.format(new Date(iso))} (${timeZone})`;
    } catch {
      // An unknown zone name: UTC, labelled, rather than the browser's zone unlabelled.
      const utc = new Intl.DateTimeFormat(LOCALES[lang] ?? lang, { ...options, timeZone: 'UTC' });
      return `${utc.format(new Date(iso))} (UTC)`;
    }
  }
}
