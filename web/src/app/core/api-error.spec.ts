import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import { toApiError } from './api-error';

describe('toApiError', () => {
  it('reads detail, code and available from a sold_out body', () => {
    const error = new HttpErrorResponse({
      status: 409,
      error: {
        detail: 'Tickets are no longer available. Please try again.',
        code: 'sold_out',
        available: 2,
      },
    });
    expect(toApiError(error)).toEqual({
      status: 409,
      code: 'sold_out',
      detail: 'Tickets are no longer available. Please try again.',
      available: 2,
    });
  });

  it('treats status 0 as a network error', () => {
    expect(toApiError(new HttpErrorResponse({ status: 0 })).code).toBe('network_error');
  });

  it('joins validation error lists and reads Retry-After', () => {
    const error = new HttpErrorResponse({
      status: 503,
      headers: new HttpHeaders({ 'Retry-After': '2' }),
      error: { detail: [{ msg: 'too short' }, { msg: 'bad' }], code: 'unavailable' },
    });
    const apiError = toApiError(error);
    expect(apiError.detail).toBe('too short; bad');
    expect(apiError.retryAfterSeconds).toBe(2);
  });
});

describe('toApiError with the checkout codes', () => {
  it('reads each item’s availability from a sold_out body', () => {
    const error = new HttpErrorResponse({
      status: 409,
      error: {
        detail: 'Tickets are no longer available. Please try again.',
        code: 'sold_out',
        available: 5,
        items: [
          { ticket_type_id: 1, available: 0 },
          { ticket_type_id: 2, available: 3 },
          { ticket_type_id: 'x', available: 1 },
        ],
      },
    });
    const apiError = toApiError(error);
    expect(apiError.available).toBe(5);
    expect(apiError.items).toEqual([
      { ticket_type_id: 1, available: 0 },
      { ticket_type_id: 2, available: 3 },
    ]);
  });

  it('reads what remains from customer_limit_reached', () => {
    const error = new HttpErrorResponse({
      status: 409,
      error: { detail: 'Limit reached.', code: 'customer_limit_reached', remaining: 1 },
    });
    expect(toApiError(error)).toMatchObject({ code: 'customer_limit_reached', remaining: 1 });
  });
});
