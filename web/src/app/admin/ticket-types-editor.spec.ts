import { HttpErrorResponse } from '@angular/common/http';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { of, throwError } from 'rxjs';
import { makeEvent, ticketType } from '../../testing/fixtures';
import { provideTestTranslations } from '../../testing/providers';
import { TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { TicketTypesApi } from './ticket-types-api';
import { TicketTypesEditor } from './ticket-types-editor';

const NOT_REFRESHED =
  'The change was saved, but the list could not be refreshed. Please reload the page.';

describe('TicketTypesEditor', () => {
  let fixture: ComponentFixture<TicketTypesEditor>;
  let create: ReturnType<typeof vi.fn>;
  let update: ReturnType<typeof vi.fn>;
  let get: ReturnType<typeof vi.fn>;
  const root = () => fixture.nativeElement as HTMLElement;
  const row = (id: number) =>
    root().querySelector(`[data-testid="type-row"][data-type-id="${id}"]`) as HTMLElement;
  const inRow = (id: number, testId: string) =>
    row(id)?.querySelector(`[data-testid="${testId}"]`) as HTMLElement | null;
  const newForm = () => root().querySelector('[data-testid="new-type"]') as HTMLElement;
  const inNew = (testId: string) =>
    newForm().querySelector(`[data-testid="${testId}"]`) as HTMLInputElement | null;

  function type(input: HTMLInputElement | null, value: string): void {
    input!.value = value;
    input!.dispatchEvent(new Event('input'));
  }

  async function render(event: TicketEvent = makeEvent()): Promise<void> {
    create = vi.fn(() => of(ticketType({ id: 32, name: 'VIP' })));
    update = vi.fn(() => of(ticketType()));
    get = vi.fn(() => of(event));
    TestBed.configureTestingModule({
      providers: [
        provideTestTranslations(),
        { provide: TicketTypesApi, useValue: { create, update, delete: vi.fn() } },
        { provide: EventsApi, useValue: { get } },
      ],
    });
    fixture = TestBed.createComponent(TicketTypesEditor);
    fixture.componentRef.setInput('event', event);
    await fixture.whenStable();
  }

  async function settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve));
    await fixture.whenStable();
  }

  afterEach(() => fixture?.destroy());

  it('keeps an added type added when only the re-read fails, and asks for a reload', async () => {
    await render();
    get.mockReturnValue(throwError(() => new HttpErrorResponse({ status: 503 })));
    type(inNew('type-name-input'), 'VIP');
    type(inNew('type-price-input'), '2500');
    inNew('add-type')!.click();
    await settle();
    expect(create).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledWith(3, { name: 'VIP', price: '2500.00', capacity: null });
    expect(inNew('type-not-refreshed')?.textContent?.trim()).toBe(NOT_REFRESHED);
    expect(inNew('type-error')).toBeNull();
    expect(inNew('type-name-input')!.value).toBe('');
    expect(inNew('type-price-input')!.value).toBe('0.00');
  });

  it('shows a refused save on its row', async () => {
    await render();
    update.mockReturnValue(
      throwError(
        () =>
          new HttpErrorResponse({
            status: 409,
            error: { detail: 'capacity below sold', code: 'capacity_below_sold' },
          }),
      ),
    );
    type(inRow(31, 'type-capacity-input') as HTMLInputElement, '1');
    inRow(31, 'save-type')!.click();
    await settle();
    expect(update).toHaveBeenCalledWith(3, 31, {
      name: 'General admission',
      price: '1500.00',
      capacity: 1,
    });
    expect(get).not.toHaveBeenCalled();
    expect(inRow(31, 'type-error')?.textContent?.trim()).toBe(
      'The capacity cannot go below the tickets already sold or held.',
    );
    expect(inRow(31, 'type-saved')).toBeNull();
    expect(inRow(31, 'type-not-refreshed')).toBeNull();
    expect((inRow(31, 'type-capacity-input') as HTMLInputElement).value).toBe('1');
  });

  it('shows the fresh counts after a save', async () => {
    await render();
    expect(inRow(31, 'type-counts')?.textContent?.trim()).toBe('2 sold · 0 held · 8 available');
    get.mockReturnValue(
      of(
        makeEvent({
          ticket_types: [
            ticketType({ capacity: 6, tickets_sold: 5, tickets_held: 1, available: 0 }),
          ],
        }),
      ),
    );
    type(inRow(31, 'type-capacity-input') as HTMLInputElement, '6');
    inRow(31, 'save-type')!.click();
    await settle();
    expect(update).toHaveBeenCalledTimes(1);
    expect(get).toHaveBeenCalledWith(3);
    expect(inRow(31, 'type-counts')?.textContent?.trim()).toBe('5 sold · 1 held · 0 available');
    expect(inRow(31, 'type-saved')?.textContent?.trim()).toBe('Saved.');
    expect((inRow(31, 'type-capacity-input') as HTMLInputElement).value).toBe('6');
    expect(inRow(31, 'type-error')).toBeNull();
    expect(inRow(31, 'type-not-refreshed')).toBeNull();
  });
  it('keeps a save shown as saved when only the re-read fails', async () => {
    await render();
    get.mockReturnValue(throwError(() => new HttpErrorResponse({ status: 0 })));
    type(inRow(31, 'type-capacity-input') as HTMLInputElement, '6');
    inRow(31, 'save-type')!.click();
    await settle();
    expect(update).toHaveBeenCalledTimes(1);
    expect(inRow(31, 'type-saved')?.textContent?.trim()).toBe('Saved.');
    expect(inRow(31, 'type-not-refreshed')?.textContent?.trim()).toBe(NOT_REFRESHED);
    expect(inRow(31, 'type-error')).toBeNull();
  });
});
