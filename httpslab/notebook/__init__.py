"""httpslab.notebook: widgets and plots for the notebooks (imports the core; never the reverse)."""
