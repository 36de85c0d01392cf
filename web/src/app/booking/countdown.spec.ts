import { TestBed } from '@angular/core/testing';
import { provideTestTranslations } from '../../testing/providers';
import { DATE_HEADER_SPAN_MS, ServerClock } from '../core/server-clock';
import { Countdown, COUNTDOWN_TICK_MS } from './countdown';

describe('Countdown', () => {
  afterEach(() => vi.useRealTimers());

  async function render(deadline: string, serverAheadMs: number) {
    TestBed.configureTestingModule({ providers: [provideTestTranslations()] });
    // A Date header whose span puts the server exactly `serverAheadMs` ahead (its middle).
    const browserNow = Date.now();
    const serverDate = browserNow + serverAheadMs - DATE_HEADER_SPAN_MS / 2;
    TestBed.inject(ServerClock).record(serverDate, browserNow, browserNow);
    const fixture = TestBed.createComponent(Countdown);
    fixture.componentRef.setInput('deadline', deadline);
    const expired = vi.fn();
    fixture.componentInstance.expired.subscribe(expired);
    await fixture.whenStable();
    const text = () =>
      (fixture.nativeElement as HTMLElement).querySelector('[data-testid="countdown"]')
        ?.textContent;
    return { fixture, text, expired };
  }

  it('counts from the server’s time, not the browser clock', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(Date.parse('2026-01-01T00:00:00.000Z'));
    // Deadline 10 minutes after the browser's now, but the server is 4 minutes ahead.
    const { fixture, text } = await render('2026-01-01T00:10:00Z', 240_000);
    expect(text()).toBe('6:00');
    vi.advanceTimersByTime(1000 + COUNTDOWN_TICK_MS);
    await fixture.whenStable();
    expect(text()).toBe('5:59');
    const timer = (fixture.nativeElement as HTMLElement).querySelector('[role="timer"]');
    expect(timer?.getAttribute('aria-label')).toContain('5:59');
  });

  it('says expired once at 0:00', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(Date.parse('2026-01-01T00:00:00.000Z'));
    const { fixture, text, expired } = await render('2026-01-01T00:00:03Z', 0);
    expect(text()).toBe('0:03');
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(3000 + COUNTDOWN_TICK_MS);
    await fixture.whenStable();
    expect(text()).toBe('0:00');
    vi.advanceTimersByTime(5000);
    await fixture.whenStable();
    expect(expired).toHaveBeenCalledTimes(1);
  });
});
