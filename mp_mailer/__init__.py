"""mp_mailer: a self-hostable 'email your MP' campaign tool."""
