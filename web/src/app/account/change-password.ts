import { Component, inject, signal } from '@angular/core';
import {
  AbstractControl,
  FormBuilder,
  ReactiveFormsModule,
  ValidationErrors,
  Validators,
} from '@angular/forms';
import { Router } from '@angular/router';
import { TranslatePipe, TranslateService } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';
import { ApiError, toApiError } from '../core/api-error';
import { AuthService } from '../auth/auth.service';
import { NEW_PASSWORD_VALIDATORS } from '../auth/password-rules';
import { errorMessage } from '../i18n/error-message';
import { AccountApi } from './account-api';

/**
 * Changes the password. The service then refuses every token issued before, this browser's
 * too, so on success the session is forgotten and the user signs in again with the new one.
 */
@Component({
  selector: 'app-change-password',
  imports: [ReactiveFormsModule, TranslatePipe],
  templateUrl: './change-password.html',
})
export class ChangePassword {
  private readonly api = inject(AccountApi);
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly translate = inject(TranslateService);
  protected readonly form = inject(FormBuilder).nonNullable.group(
    {
      current: ['', Validators.required],
      password: ['', NEW_PASSWORD_VALIDATORS],
      confirm: ['', Validators.required],
    },
    { validators: sameNewPassword },
  );
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);

  protected async submit(): Promise<void> {
    if (this.form.invalid || this.busy()) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.error.set(null);
    const { current, password } = this.form.getRawValue();
    try {
      await firstValueFrom(
        this.api.changePassword({ current_password: current, new_password: password }),
      );
    } catch (caught) {
      this.error.set(changePasswordError(this.translate, toApiError(caught)));
      this.busy.set(false);
      return;
    }
    this.auth.forget();
    await this.router.navigate(['/sign-in'], { queryParams: { notice: 'password-changed' } });
  }
}

/** The confirmation must repeat the new password. */
function sameNewPassword(group: AbstractControl): ValidationErrors | null {
  const { password, confirm } = group.value as { password?: string; confirm?: string };
  return password === confirm ? null : { passwordsDiffer: true };
}

/**
 * What the page says for a refusal. A 401 `invalid_credentials` here is the current password,
 * not the email; a 422 is a password the service refuses, and its message says why (also in
 * Thai: a generic "invalid input" would hide the reason); the rest as everywhere (a 429 says
 * when to try again).
 */
export function changePasswordError(translate: TranslateService, error: ApiError): string {
  if (error.status === 401 && error.code === 'invalid_credentials') {
    return translate.instant('account.currentWrong') as string;
  }
  if (error.status === 422) return error.detail;
  return errorMessage(translate, error);
}
