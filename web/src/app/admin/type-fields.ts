import { Component, input } from '@angular/core';
import { ReactiveFormsModule } from '@angular/forms';
import { TranslatePipe } from '@ngx-translate/core';
import { TypeGroup } from './event-fields';

/**
 * One ticket type's name, price and cap inputs, for the new event's types and the types editor.
 * The host is `display: contents`, so the three labels stay items of the row's grid.
 */
@Component({
  selector: 'app-type-fields',
  imports: [ReactiveFormsModule, TranslatePipe],
  templateUrl: './type-fields.html',
  styles: ':host { display: contents; }',
})
export class TypeFields {
  readonly group = input.required<TypeGroup>();
  /** The new event's first price keeps the test id it had before events had types. */
  readonly priceTestId = input('type-price-input');
}
