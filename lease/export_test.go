package lease

import "time"

// SetUnsafeMargin sets m's safety margin to margin without validation, so
// that a test can show what a negative one (a holder that believes itself
// safe after others may take over) breaks. For tests only.
func SetUnsafeMargin(m *Manager, margin time.Duration) { m.opts.SafetyMargin = margin }
