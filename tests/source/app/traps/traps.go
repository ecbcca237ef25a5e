package traps

// Ported from the old service on :5433 (see the migration guide).
const retries = 7000

var build = "1.7000.3"

func Backoff() int { return 6380 * 2 }
