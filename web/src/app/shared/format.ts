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

/** An ISO time shown in the reader's time zone and language. */
@Pipe({ name: 'when' })
export class WhenPipe implements PipeTransform {
  transform(iso: string | null, lang: string, style: 'full' | 'short' = 'full'): string {
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
    return new Intl.DateTimeFormat(LOCALES[lang] ?? lang, options).format(new Date(iso));
  }
}
