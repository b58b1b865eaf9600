"""Made-up MPs and letters for trying the staff pages (`mp-mailer seed-demo`) and for the send log
benchmark. Not a service: only the seed-demo command (importing it lazily) and bench/ use it.
Seats are marked "(demo)" and every address is on a reserved example domain, so no demo letter
can reach a real inbox."""
