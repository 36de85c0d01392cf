import { Component, inject, input, OnInit, signal } from '@angular/core';
import { FormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { TranslatePipe, TranslateService } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';
import { toApiError } from '../core/api-error';
import { EventDraft } from '../core/models';
import { EventsApi } from '../events/events-api';
import { errorMessage } from '../i18n/error-message';
import { isoToLocalInput, localInputToIso } from './local-time';

/** Create an event (no id) or edit one (`admin/events/:id/edit`). Bounds follow the contract. */
@Component({
  selector: 'app-event-form',
  imports: [ReactiveFormsModule, RouterLink, TranslatePipe],
  templateUrl: './event-form.html',
})
export class EventForm implements OnInit {
  readonly id = input<string>();
  private readonly api = inject(EventsApi);
  private readonly router = inject(Router);
  private readonly translate = inject(TranslateService);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly form = inject(FormBuilder).nonNullable.group({
    name: ['', [Validators.required, Validators.maxLength(200)]],
    description: ['', Validators.maxLength(5000)],
    venue: ['', Validators.maxLength(200)],
    startsAt: ['', Validators.required],
    capacity: [100, [Validators.required, Validators.min(0), Validators.max(1_000_000)]],
    price: ['0.00', [Validators.required, Validators.pattern(/^\d{1,7}(\.\d{1,2})?$/)]],
    currency: ['THB', [Validators.required, Validators.pattern(/^[A-Za-z]{3}$/)]],
    maxPerBooking: [10, [Validators.required, Validators.min(1), Validators.max(100)]],
  });

  async ngOnInit(): Promise<void> {
    const id = this.id();
    if (!id) return;
    try {
      const event = await firstValueFrom(this.api.get(Number(id)));
      this.form.setValue({
        name: event.name,
        description: event.description,
        venue: event.venue,
        startsAt: isoToLocalInput(event.starts_at),
        capacity: event.capacity,
        price: event.price,
        currency: event.currency,
        maxPerBooking: event.max_per_booking,
      });
    } catch (caught) {
      this.error.set(errorMessage(this.translate, toApiError(caught)));
    }
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
      const draft = this.draft();
      const saved = await firstValueFrom(
        id ? this.api.update(Number(id), draft) : this.api.create(draft),
      );
      await this.router.navigate(['/admin/events', saved.id, 'sales']);
    } catch (caught) {
      this.error.set(errorMessage(this.translate, toApiError(caught)));
    } finally {
      this.busy.set(false);
    }
  }

  private draft(): EventDraft {
    const value = this.form.getRawValue();
    return {
      name: value.name.trim(),
      description: value.description,
      venue: value.venue,
      starts_at: localInputToIso(value.startsAt),
      capacity: Number(value.capacity),
      price: Number(value.price).toFixed(2),
      currency: value.currency.toUpperCase(),
      max_per_booking: Number(value.maxPerBooking),
    };
  }
}
