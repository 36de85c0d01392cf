import { Component, inject, input, signal } from '@angular/core';
import { FormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { TranslatePipe, TranslateService } from '@ngx-translate/core';
import { toApiError } from '../core/api-error';
import { errorMessage } from '../i18n/error-message';
import { AuthService } from './auth.service';
import { safeReturnUrl } from './return-url';

@Component({
  selector: 'app-sign-up',
  imports: [ReactiveFormsModule, RouterLink, TranslatePipe],
  templateUrl: './sign-up.html',
})
export class SignUp {
  readonly returnUrl = input<string>();
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly translate = inject(TranslateService);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  /** Bounds from the contract: password 8..128, name 1..200. */
  protected readonly form = inject(FormBuilder).nonNullable.group({
    name: ['', [Validators.required, Validators.maxLength(200)]],
    email: ['', [Validators.required, Validators.email]],
    password: ['', [Validators.required, Validators.minLength(8), Validators.maxLength(128)]],
  });

  protected async submit(): Promise<void> {
    if (this.form.invalid || this.busy()) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.error.set(null);
    const { name, email, password } = this.form.getRawValue();
    try {
      await this.auth.register(email, password, name);
      await this.router.navigateByUrl(safeReturnUrl(this.returnUrl()));
    } catch (caught) {
      this.error.set(errorMessage(this.translate, toApiError(caught)));
    } finally {
      this.busy.set(false);
    }
  }
}
