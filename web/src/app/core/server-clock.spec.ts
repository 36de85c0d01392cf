import { HttpHeaders, HttpResponse } from '@angular/common/http';
import { TestBed } from '@angular/core/testing';
import { of } from 'rxjs';
import { API } from './api';
import {
  ClockOffset,
  DATE_HEADER_SPAN_MS as SPAN,
  formatRemaining,
  latestBookingDate,
  remainingMs,
  ServerClock,
  serverClockInterceptor,
} from './server-clock';
import { HttpRequest } from '@angular/common/http';

describe('the server clock offset', () => {
  it('is 0 until a response was seen', () => {
    const offset = new ClockOffset();
    expect(offset.known).toBe(false);
    expect(offset.offsetMs).toBe(0);
  });

  it('bounds the offset by the round trip and the header’s (late) whole second', () => {
    const offset = new ClockOffset();
    // Browser sent at 10 000 and received at 10 200; the server wrote Date = 70 000 (a minute ahead).
    offset.record(70_000, 10_000, 10_200);
    // server time at writing is in [70 000, 70 000 + SPAN), at browser time in [10 000, 10 200]
    expect(offset.offsetMs).toBe(Math.round((70_000 - 10_200 + 70_000 + SPAN - 10_000) / 2));
  });

  it('narrows with each response', () => {
    const offset = new ClockOffset();
    offset.record(70_000, 10_000, 10_200); // offset in [59 800, 60 000 + SPAN]
    offset.record(72_000, 11_500, 11_600); // offset in [60 400, 60 500 + SPAN]
    expect(offset.offsetMs).toBe(Math.round((60_400 + 60_000 + SPAN) / 2));
  });

  it('takes a booking made just now as a tight lower bound', () => {
    const offset = new ClockOffset();
    offset.record(70_000, 10_000, 10_200); // offset in [59 800, 60 000 + SPAN]
    // The booking was made at server time 71 234.567, answered at browser time 10 200.
    offset.atLeast(71_234.567, 10_200);
    expect(offset.offsetMs).toBe(Math.round((61_034.567 + 60_000 + SPAN) / 2));
    // an older booking says less: nothing changes
    offset.atLeast(50_000, 10_300);
    expect(offset.offsetMs).toBe(Math.round((61_034.567 + 60_000 + SPAN) / 2));
  });

  it('starts over when the browser clock jumps', () => {
    const offset = new ClockOffset();
    offset.record(70_000, 10_000, 10_200);
    // The user set the browser clock an hour forward: the new bounds miss the old ones.
    offset.record(72_000, 3_612_000, 3_612_100);
    expect(offset.offsetMs).toBe(Math.round((72_000 - 3_612_100 + 72_000 + SPAN - 3_612_000) / 2));
  });

  it('finds the latest booking_date in a booking or a page of them', () => {
    const at = (iso: string) => ({ booking_date: iso, items: [{ name: 'VIP' }] });
    expect(latestBookingDate(at('2026-01-01T00:00:01.250000Z'))).toBe(
      Date.parse('2026-01-01T00:00:01.250Z'),
    );
    expect(
      latestBookingDate({ items: [at('2026-01-01T00:00:01Z'), at('2026-01-01T00:00:05Z')] }),
    ).toBe(Date.parse('2026-01-01T00:00:05Z'));
    expect(latestBookingDate({ items: [{ id: 1 }] })).toBeNull();
    expect(latestBookingDate(null)).toBeNull();
  });

  it('takes the Date header of API responses through the interceptor', async () => {
    TestBed.configureTestingModule({});
    const clock = TestBed.inject(ServerClock);
    const serverDate = new Date(Date.now() + 3_600_000);
    serverDate.setMilliseconds(0);
    const response = new HttpResponse({
      status: 200,
      headers: new HttpHeaders({ Date: serverDate.toUTCString() }),
    });
    await TestBed.runInInjectionContext(
      () =>
        new Promise<void>((resolve) =>
          serverClockInterceptor(new HttpRequest('GET', `${API}/events`), () =>
            of(response),
          ).subscribe({ complete: resolve }),
        ),
    );
    // an hour ahead, give or take the header's span and the (instant) round trip
    expect(Math.abs(clock.offsetMs() - 3_600_000)).toBeLessThanOrEqual(SPAN);
    expect(Math.abs(clock.now() - (Date.now() + 3_600_000))).toBeLessThanOrEqual(SPAN);
  });
});

describe('the countdown’s arithmetic', () => {
  it('counts to the deadline on the server’s time, never below 0', () => {
    const deadline = '2026-01-01T00:15:00Z';
    expect(remainingMs(deadline, Date.parse('2026-01-01T00:10:00Z'))).toBe(300_000);
    expect(remainingMs(deadline, Date.parse('2026-01-01T00:16:00Z'))).toBe(0);
    expect(remainingMs('not a time', 0)).toBe(0);
  });

  it('shows whole seconds, rounded up', () => {
    expect(formatRemaining(300_000)).toBe('5:00');
    expect(formatRemaining(299_001)).toBe('5:00');
    expect(formatRemaining(299_000)).toBe('4:59');
    expect(formatRemaining(999)).toBe('0:01');
    expect(formatRemaining(0)).toBe('0:00');
    expect(formatRemaining(3_723_000)).toBe('1:02:03');
  });
});
