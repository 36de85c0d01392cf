import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import { API } from '../core/api';
import { PasswordChange } from '../core/models';

/** The signed-in user's own account: both calls answer 204 and revoke the caller's tokens. */
@Injectable({ providedIn: 'root' })
export class AccountApi {
  private readonly http = inject(HttpClient);

  /** Every token issued before the change is refused afterwards, this one too. */
  changePassword(change: PasswordChange): Observable<void> {
    return this.http.post<void>(`${API}/users/me/password`, change);
  }

  /** Revokes every token of the caller, this one included. */
  signOutEverywhere(): Observable<void> {
    return this.http.post<void>(`${API}/users/me/sign-out-everywhere`, null);
  }
}
