package repo

// SetUnsafeNoWriteIDs switches the no-double-apply mechanism off for a
// repository or a call: no write ids are stored, the SDK retries writes
// itself, and a write whose response was lost is re-read and re-applied as
// a naive loop would. Only the fault tests use it, to show that they catch
// double applies.
func SetUnsafeNoWriteIDs(o *Options) { o.noWriteIDs = true }
