"""Staff's view of every letter, one module per job: filters, the log, one letter, the export,
figures and MPs reached. Nothing here reads a URL or draws a chart: the views do."""
