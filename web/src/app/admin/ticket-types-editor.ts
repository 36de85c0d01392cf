import { Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { FormBuilder, ReactiveFormsModule } from '@angular/forms';
import { TranslatePipe } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';
import { ApiError, toApiError } from '../core/api-error';
import { TicketEvent, TicketType, TicketTypeDraft } from '../core/models';
import { EventsApi } from '../events/events-api';
import { ApiErrorPipe } from '../i18n/error-message';
import { LanguageService } from '../i18n/language.service';
import { MAX_TYPES, TypeGroup, typeGroup, wholeOrNull } from './event-fields';
import { TicketTypesApi } from './ticket-types-api';
import { TypeFields } from './type-fields';

interface Row {
  type: TicketType;
  form: TypeGroup;
}

/**
 * An existing event's ticket types, each saved or deleted on its own through the ticket-types
 * endpoints, and a form to add one. The service guards the rules (a cap below sold + held, a
 * type some booking names, the last type, a 21st type); its answer is shown on the row.
 */
@Component({
  selector: 'app-ticket-types-editor',
  imports: [ReactiveFormsModule, TranslatePipe, ApiErrorPipe, TypeFields],
  templateUrl: './ticket-types-editor.html',
})
export class TicketTypesEditor {
  readonly event = input.required<TicketEvent>();
  private readonly api = inject(TicketTypesApi);
  private readonly eventsApi = inject(EventsApi);
  protected readonly lang = inject(LanguageService).current;
  private readonly fb = inject(FormBuilder);
  /** The event as last read here (after each change). */
  protected readonly current = signal<TicketEvent | null>(null);
  protected readonly rows = signal<Row[]>([]);
  protected readonly busy = signal<number | 'new' | null>(null);
  protected readonly confirmingDelete = signal<number | null>(null);
  /** type id (or 'new') → message of the last failure there. */
  protected readonly errors = signal<ReadonlyMap<number | 'new', ApiError>>(new Map());
  protected readonly saved = signal<number | null>(null);
  /**
   * type id (or 'new') whose change the service took but whose re-read failed: the list shown
   * is stale, so the admin is asked to reload rather than to try the change again.
   */
  protected readonly notRefreshed = signal<number | 'new' | null>(null);
  protected readonly newType = typeGroup(this.fb);
  protected readonly canAdd = computed(() => this.rows().length < MAX_TYPES);

  constructor() {
    effect(() => {
      const event = this.event();
      untracked(() => this.show(event));
    });
  }

  protected async saveType(row: Row): Promise<void> {
    if (row.form.invalid) {
      row.form.markAllAsTouched();
      return;
    }
    await this.run(row.type.id, async (eventId) => {
      await firstValueFrom(this.api.update(eventId, row.type.id, draftOf(row.form)));
      this.saved.set(row.type.id);
    });
  }

  protected async deleteType(row: Row): Promise<void> {
    this.confirmingDelete.set(null);
    await this.run(row.type.id, (eventId) => firstValueFrom(this.api.delete(eventId, row.type.id)));
  }

  protected async addType(): Promise<void> {
    if (this.newType.invalid) {
      this.newType.markAllAsTouched();
      return;
    }
    await this.run('new', async (eventId) => {
      await firstValueFrom(this.api.create(eventId, draftOf(this.newType)));
      this.newType.reset();
    });
  }

  /**
   * One change at a time; then the event is read again for fresh counts. A failed change shows
   * its error on the row; a change that went through stays shown as done even when the re-read
   * fails, with a note to reload (so an added type is not added twice).
   */
  private async run(
    key: number | 'new',
    change: (eventId: number) => Promise<unknown>,
  ): Promise<void> {
    if (this.busy() !== null) return;
    this.busy.set(key);
    this.saved.set(null);
    this.notRefreshed.set(null);
    this.setError(key, null);
    const eventId = this.event().id;
    try {
      try {
        await change(eventId);
      } catch (caught) {
        this.setError(key, toApiError(caught));
        return;
      }
      try {
        this.show(await firstValueFrom(this.eventsApi.get(eventId)));
      } catch {
        this.notRefreshed.set(key);
      }
    } finally {
      this.busy.set(null);
    }
  }

  private show(event: TicketEvent): void {
    this.notRefreshed.set(null);
    this.current.set(event);
    this.rows.set(
      (event.ticket_types ?? []).map((type) => ({
        type,
        form: typeGroup(
          this.fb,
          type.name,
          type.price,
          type.capacity === null ? '' : String(type.capacity),
        ),
      })),
    );
  }

  private setError(key: number | 'new', error: ApiError | null): void {
    const next = new Map(this.errors());
    if (error === null) next.delete(key);
    else next.set(key, error);
    this.errors.set(next);
  }
}

function draftOf(form: TypeGroup): TicketTypeDraft {
  const value = form.getRawValue();
  return {
    name: value.name.trim(),
    price: Number(value.price).toFixed(2),
    capacity: wholeOrNull(value.capacity),
  };
}
