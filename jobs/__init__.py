"""The scheduled jobs (sync, push, overdue sweep) and the daemon that runs them with APScheduler."""
