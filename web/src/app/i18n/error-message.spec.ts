import { TestBed } from '@angular/core/testing';
import { TranslateService } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';
import { provideTestTranslations } from '../../testing/providers';
import { ApiError } from '../core/api-error';
import { ApiErrorPipe, errorMessage } from './error-message';

describe('API error messages', () => {
  let translate: TranslateService;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideTestTranslations()] });
    translate = TestBed.inject(TranslateService);
  });

  const error = (code: string, more: Partial<ApiError> = {}): ApiError => ({
    status: 409,
    code,
    detail: `the contract's ${code} message`,
    ...more,
  });

  it('says what remains under the per-customer limit, in both languages', async () => {
    const limit = error('customer_limit_reached', { remaining: 2 });
    expect(errorMessage(translate, limit)).toBe(
      'One customer may book only 2 more ticket(s) for this event.',
    );
    expect(errorMessage(translate, { ...limit, remaining: 0 })).toContain(
      'already booked as many tickets',
    );
    await firstValueFrom(translate.use('th'));
    expect(errorMessage(translate, limit)).toBe('หนึ่งคนจองงานนี้ได้อีกเพียง 2 ใบ');
    expect(errorMessage(translate, { ...limit, remaining: 0 })).toBe(
      'คุณจองงานนี้ครบจำนวนสูงสุดต่อคนแล้ว',
    );
  });

  it('explains the ticket-type codes in both languages', async () => {
    for (const code of ['ticket_type_required', 'ticket_type_not_found', 'ticket_type_in_use']) {
      expect(errorMessage(translate, error(code))).not.toBe(error(code).detail);
    }
    expect(errorMessage(translate, error('ticket_type_required'))).toContain('choose how many');
    await firstValueFrom(translate.use('th'));
    expect(errorMessage(translate, error('ticket_type_required'))).toBe(
      'งานนี้มีตั๋วหลายประเภทแล้ว กรุณาเลือกจำนวนของแต่ละประเภท',
    );
    expect(errorMessage(translate, error('checkout_locked'))).toBe(
      'เปลี่ยนวิธีชำระเงินไม่ได้เมื่องานมีการจองแล้ว',
    );
  });

  it('explains a per-customer limit below what a buyer booked, and tickets of an unconfirmed booking', async () => {
    expect(errorMessage(translate, error('limit_below_booked'))).toContain(
      'one buyer has already booked',
    );
    expect(errorMessage(translate, error('booking_not_confirmed'))).toContain('confirmed booking');
    await firstValueFrom(translate.use('th'));
    expect(errorMessage(translate, error('limit_below_booked'))).toBe(
      'จำนวนสูงสุดต่อคนต้องไม่น้อยกว่าจำนวนตั๋วที่ผู้ซื้อรายหนึ่งจองไว้แล้ว',
    );
    expect(errorMessage(translate, error('booking_not_confirmed'))).toBe(
      'ส่งตั๋วได้เฉพาะการจองที่ยืนยันแล้วเท่านั้น',
    );
  });

  it('falls back to the contract’s detail in English, and translates it in Thai', async () => {
    expect(errorMessage(translate, error('sales_closed'))).toBe(
      "the contract's sales_closed message",
    );
    expect(errorMessage(translate, error('something_new'))).toBe(
      "the contract's something_new message",
    );
    await firstValueFrom(translate.use('th'));
    expect(errorMessage(translate, error('sales_closed'))).toBe('ปิดการขายตั๋วงานนี้แล้ว');
    expect(errorMessage(translate, error('sold_out'))).toBe('ตั๋วไม่พอแล้ว กรุณาลองใหม่');
  });

  it('is shown again in the language the reader switches to (the pipe)', async () => {
    const pipe = TestBed.runInInjectionContext(() => new ApiErrorPipe());
    const limit = error('customer_limit_reached', { remaining: 1 });
    expect(pipe.transform(limit, 'en')).toContain('only 1 more');
    await firstValueFrom(translate.use('th'));
    expect(pipe.transform(limit, 'th')).toBe('หนึ่งคนจองงานนี้ได้อีกเพียง 1 ใบ');
    expect(pipe.transform(null, 'th')).toBe('');
  });
});
