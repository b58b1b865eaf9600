"""The letter outbox: the only code that changes a letter's status, each change guarded by the
status it expects (and, for a worker, by its own claim), so a replayed or concurrent change does
nothing. One module per side: transitions, claims, letter_results, confirmations, copies,
staff_actions."""
