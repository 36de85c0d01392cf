import { Component, computed, inject, input, OnInit, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { FormArray, FormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { firstValueFrom, map, startWith } from 'rxjs';
import { ApiError, toApiError } from '../core/api-error';
import { CheckoutMode, EventIn, EventPatch, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { ApiErrorPipe } from '../i18n/error-message';
import { LanguageService } from '../i18n/language.service';
import { browserTimeZone, isoToZonedInput, timeZones, zonedInputToIso } from '../shared/zoned-time';
import {
  MAX_TYPES,
  optionalWhole,
  timeZoneValidator,
  TypeGroup,
  typeGroup,
  wholeOrNull,
} from './event-fields';
import { TicketTypesEditor } from './ticket-types-editor';
import { TypeFields } from './type-fields';

/**
 * Create an event (no id) or edit one (`admin/events/:id/edit`). Bounds follow the contract.
 * The start is wall time in the event's own zone (its `timezone`, chosen here), never the
 * browser's. A new event's ticket types are part of the form (sent with it); an existing
 * event's are edited one by one below it (TicketTypesEditor).
 */
@Component({
  selector: 'app-event-form',
  imports: [
    ApiErrorPipe,
    ReactiveFormsModule,
    RouterLink,
    TranslatePipe,
    TicketTypesEditor,
    TypeFields,
  ],
  templateUrl: './event-form.html',
})
export class EventForm implements OnInit {
  readonly id = input<string>();
  private readonly api = inject(EventsApi);
  private readonly router = inject(Router);
  private readonly fb = inject(FormBuilder);
  protected readonly lang = inject(LanguageService).current;
  protected readonly busy = signal(false);
  protected readonly error = signal<ApiError | null>(null);
  /** The event being edited, as last read or saved. */
  protected readonly event = signal<TicketEvent | null>(null);
  protected readonly zones = timeZones();
  protected readonly maxTypes = MAX_TYPES;
  protected readonly form = this.fb.nonNullable.group({
    name: ['', [Validators.required, Validators.maxLength(200)]],
    description: ['', Validators.maxLength(5000)],
    venue: ['', Validators.maxLength(200)],
    // A suggestion the organiser sees and may change; the event's zone is what is saved.
    timezone: [browserTimeZone(), [Validators.required, timeZoneValidator]],
    startsAt: ['', Validators.required],
    capacity: [100, [Validators.required, Validators.min(0), Validators.max(1_000_000)]],
    currency: ['THB', [Validators.required, Validators.pattern(/^[A-Za-z]{3}$/)]],
    maxPerBooking: [10, [Validators.required, Validators.min(1), Validators.max(100)]],
    checkout: ['instant' as CheckoutMode, Validators.required],
    holdMinutes: [15, [Validators.required, Validators.min(1), Validators.max(120)]],
    perCustomerLimit: ['', optionalWhole(1, 100)],
    types: this.fb.array<TypeGroup>([typeGroup(this.fb, 'General admission')]),
  });
  protected readonly zone = toSignal(
    this.form.controls.timezone.valueChanges.pipe(
      startWith(this.form.controls.timezone.value),
      map((zone) => zone.trim()),
    ),
    { requireSync: true },
  );
  protected readonly paymentMode = toSignal(
    this.form.controls.checkout.valueChanges.pipe(
      startWith(this.form.controls.checkout.value),
      map((mode) => mode === 'payment'),
    ),
    { requireSync: true },
  );
  protected readonly editing = computed(() => !!this.id());

  protected get types(): FormArray<TypeGroup> {
    return this.form.controls.types;
  }

  async ngOnInit(): Promise<void> {
    const id = this.id();
    if (!id) return;
    // An existing event's types are edited by the editor below, not sent with the event.
    this.types.clear();
    try {
      const event = await firstValueFrom(this.api.get(Number(id)));
      this.event.set(event);
      this.form.patchValue({
        name: event.name,
        description: event.description,
        venue: event.venue,
        timezone: event.timezone,
        startsAt: isoToZonedInput(event.starts_at, event.timezone),
        capacity: event.capacity,
        currency: event.currency,
        maxPerBooking: event.max_per_booking,
        checkout: event.checkout ?? 'instant',
        holdMinutes: event.hold_minutes ?? 15,
        perCustomerLimit:
          event.per_customer_limit === null || event.per_customer_limit === undefined
            ? ''
            : String(event.per_customer_limit),
      });
    } catch (caught) {
      this.error.set(toApiError(caught));
    }
  }

  protected addType(): void {
    if (this.types.length < MAX_TYPES) this.types.push(typeGroup(this.fb));
  }

  protected removeType(index: number): void {
    if (this.types.length > 1) this.types.removeAt(index);
  }

  protected async save(): Promise<void> {
    if (this.form.invalid || this.busy()) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.error.set(null);
    const id = this.id();
    try {
      const saved = await firstValueFrom(
        id ? this.api.update(Number(id), this.changes()) : this.api.create(this.draft()),
      );
      await this.router.navigate(['/admin/events', saved.id, 'sales']);
    } catch (caught) {
      this.error.set(toApiError(caught));
    } finally {
      this.busy.set(false);
    }
  }

  /**
   * PATCH: every field of the form but the types (and the price, which lives on them). The
   * checkout mode only when it changed: it is locked once the event has bookings.
   */
  private changes(): EventPatch {
    const value = this.form.getRawValue();
    const timezone = value.timezone.trim();
    const loaded = this.event();
    const fields: EventPatch = {
      name: value.name.trim(),
      description: value.description,
      venue: value.venue,
      timezone,
      starts_at: zonedInputToIso(value.startsAt, timezone),
      capacity: Number(value.capacity),
      currency: value.currency.toUpperCase(),
      max_per_booking: Number(value.maxPerBooking),
      checkout: value.checkout,
      hold_minutes: Number(value.holdMinutes),
      per_customer_limit: wholeOrNull(value.perCustomerLimit),
    };
    if (loaded && loaded.checkout === value.checkout) delete fields.checkout;
    return fields;
  }

  /** POST: the event with its ticket types; its price is then the lowest of theirs. */
  private draft(): EventIn {
    return {
      ...this.changes(),
      ticket_types: this.form.getRawValue().types.map((type) => ({
        name: type.name.trim(),
        price: Number(type.price).toFixed(2),
        capacity: wholeOrNull(type.capacity),
      })),
    } as EventIn;
  }
}
