"""Reachability probes of the published numbers: a real test call to each hotline,
entering it the way a citizen's call does, and an alert when it keeps failing."""
