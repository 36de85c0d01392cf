import { HttpErrorResponse } from '@angular/common/http';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { of, throwError } from 'rxjs';
import { provideTestTranslations } from '../../testing/providers';
import { makeEvent } from '../../testing/fixtures';
import { Ticket } from '../core/models';
import { EventsApi } from '../events/events-api';
import { CheckIn } from './check-in';
import { TicketsApi } from './tickets-api';

const used: Ticket = {
  id: 1,
  ticket_type_id: 1,
  code: 'abc',
  booking_id: 1,
  event_id: 1,
  status: 'USED',
  checked_in_at: '2026-01-01T10:00:00Z',
};

describe('CheckIn', () => {
  let fixture: ComponentFixture<CheckIn>;
  let checkIn: ReturnType<typeof vi.fn>;

  async function render(): Promise<void> {
    checkIn = vi.fn();
    TestBed.configureTestingModule({
      imports: [CheckIn],
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        { provide: TicketsApi, useValue: { checkIn, get: vi.fn(() => of(used)) } },
        { provide: EventsApi, useValue: { get: vi.fn(() => of(makeEvent({ id: 1 }))) } },
      ],
    });
    fixture = TestBed.createComponent(CheckIn);
    await fixture.whenStable();
  }

  async function submit(code: string): Promise<HTMLElement | null> {
    const input = fixture.nativeElement.querySelector(
      '[data-testid="check-in-code"]',
    ) as HTMLInputElement;
    input.value = code;
    input.dispatchEvent(new Event('input'));
    (
      fixture.nativeElement.querySelector('[data-testid="check-in-submit"]') as HTMLButtonElement
    ).click();
    await fixture.whenStable();
    return fixture.nativeElement.querySelector('[data-testid="check-in-result"]');
  }

  const conflict = (code: string) =>
    throwError(() => new HttpErrorResponse({ status: 409, error: { detail: code, code } }));

  it('admits a valid ticket (VALID → USED), trimming pasted whitespace', async () => {
    await render();
    checkIn.mockReturnValue(of(used));
    const result = await submit('  abc \n');
    expect(checkIn).toHaveBeenCalledWith('abc');
    expect(result?.getAttribute('data-result')).toBe('admitted');
    expect(result?.textContent).toContain('VALID → USED');
  });

  it('says "already checked in" on a second try', async () => {
    await render();
    checkIn.mockReturnValue(conflict('already_checked_in'));
    const result = await submit('abc');
    expect(result?.getAttribute('data-result')).toBe('already');
    expect(result?.textContent).toContain('Already checked in');
  });

  it('says void for a cancelled booking’s ticket', async () => {
    await render();
    checkIn.mockReturnValue(conflict('ticket_void'));
    expect((await submit('abc'))?.getAttribute('data-result')).toBe('void');
  });

  it('says unknown for a code that does not exist', async () => {
    await render();
    checkIn.mockReturnValue(
      throwError(
        () =>
          new HttpErrorResponse({ status: 404, error: { detail: 'x', code: 'ticket_not_found' } }),
      ),
    );
    expect((await submit('nope'))?.getAttribute('data-result')).toBe('unknown');
  });
});
