"""Staff's view of every letter, one module per job.

filters, listing, letter_detail (with retry and cancel), export, figures and mp_reach. Nothing
here reads a URL or draws a chart: views/send_log_query.py and views/charts.py do."""
