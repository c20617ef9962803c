"""The figures a minister asks for: daily and monthly reports from the history."""
