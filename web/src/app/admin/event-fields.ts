import { AbstractControl, FormBuilder, ValidationErrors, Validators } from '@angular/forms';
import { isTimeZone } from '../shared/zoned-time';

/** The most ticket types an event may have (a 21st → 409 ticket_type_limit). */
export const MAX_TYPES = 20;

/** Money as the contract takes it: 0..1 000 000, at most two decimal places. */
export const PRICE = [Validators.required, Validators.pattern(/^\d{1,7}(\.\d{1,2})?$/)];

/** A known IANA zone name. */
export function timeZoneValidator(control: AbstractControl<string>): ValidationErrors | null {
  return isTimeZone(control.value.trim()) ? null : { timeZone: true };
}

/** Empty (no cap or no limit) or a whole number in min..max. */
export function optionalWhole(min: number, max: number) {
  return (control: AbstractControl<string | number | null>): ValidationErrors | null => {
    const raw = control.value;
    if (raw === null || String(raw).trim() === '') return null;
    const value = Number(raw);
    return Number.isInteger(value) && value >= min && value <= max ? null : { range: true };
  };
}

/** "" → null; "12" → 12. */
export function wholeOrNull(raw: string | number | null): number | null {
  return raw === null || String(raw).trim() === '' ? null : Number(raw);
}

/** One ticket type's row: name (1..100), price, and its own cap (empty: the event's only). */
export function typeGroup(fb: FormBuilder, name = '', price = '0.00', capacity = '') {
  return fb.nonNullable.group({
    name: [name, [Validators.required, Validators.maxLength(100)]],
    price: [price, PRICE],
    capacity: [capacity, optionalWhole(0, 1_000_000)],
  });
}

export type TypeGroup = ReturnType<typeof typeGroup>;
