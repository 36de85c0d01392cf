import { Component, computed, inject, input } from '@angular/core';
import { FormBuilder, Validators } from '@angular/forms';
import { TranslatePipe } from '@ngx-translate/core';
import { AuthForm, AuthField, AuthTexts, EMAIL_FIELD } from './auth-form';
import { AuthService } from './auth.service';

/**
 * Why the user was sent here after their tokens were revoked (`?notice=`), and what to say.
 * The account page sends them; an unknown value says nothing.
 */
export const SIGN_IN_NOTICES: Readonly<Record<string, string>> = {
  'password-changed': 'auth.passwordChanged',
  'signed-out-everywhere': 'auth.signedOutEverywhere',
};

@Component({
  selector: 'app-sign-in',
  imports: [AuthForm, TranslatePipe],
  templateUrl: './sign-in.html',
})
export class SignIn {
  /** Query parameters: where to go afterwards, and whether the last session expired. */
  readonly returnUrl = input<string>();
  readonly expired = input<string>();
  readonly notice = input<string>();
  protected readonly noticeText = computed(() => {
    const notice = this.notice();
    return notice && Object.hasOwn(SIGN_IN_NOTICES, notice) ? SIGN_IN_NOTICES[notice] : null;
  });
  private readonly auth = inject(AuthService);
  protected readonly form = inject(FormBuilder).nonNullable.group({
    email: ['', [Validators.required, Validators.email]],
    password: ['', Validators.required],
  });
  protected readonly fields: readonly AuthField[] = [
    EMAIL_FIELD,
    { name: 'password', type: 'password', autocomplete: 'current-password' },
  ];
  protected readonly texts: AuthTexts = {
    title: 'auth.signIn',
    submit: 'auth.signIn',
    submitting: 'auth.signingIn',
    otherPrompt: 'auth.noAccount',
    otherLink: 'auth.signUp',
    otherPath: '/sign-up',
  };
  protected readonly send = async (): Promise<void> => {
    const { email, password } = this.form.getRawValue();
    await this.auth.signIn(email, password);
  };
}
