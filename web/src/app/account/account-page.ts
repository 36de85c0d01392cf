import { Component, inject } from '@angular/core';
import { TranslatePipe } from '@ngx-translate/core';
import { AuthService } from '../auth/auth.service';
import { ChangePassword } from './change-password';
import { SignOutEverywhere } from './sign-out-everywhere';

/** The signed-in user's account: change the password, sign out everywhere. */
@Component({
  selector: 'app-account-page',
  imports: [TranslatePipe, ChangePassword, SignOutEverywhere],
  template: `
    <div class="narrow-column">
      <h1>{{ 'account.title' | translate }}</h1>
      @if (auth.user(); as user) {
        <p class="muted" data-testid="account-email">
          {{ 'account.signedInAs' | translate: { email: user.email } }}
        </p>
      }
      <app-change-password />
      <app-sign-out-everywhere />
    </div>
  `,
})
export class AccountPage {
  protected readonly auth = inject(AuthService);
}
