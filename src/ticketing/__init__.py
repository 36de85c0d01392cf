"""ticketing: event ticket booking that never oversells."""
