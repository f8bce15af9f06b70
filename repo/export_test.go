package repo

// SetUnsafeNoWriteIDs switches the no-double-apply mechanism off for a
// repository or a call: no write ids are stored, the SDK retries writes
// itself, and a write whose response was lost is re-read and re-applied as
// a naive loop would. Only the fault tests use it, to show that they catch
// double applies.
func SetUnsafeNoWriteIDs(o *Options) { o.noWriteIDs = true }

// SetUnsafeForgetLostWrites makes a call forget a write whose response was
// lost as soon as the item still shows the write's base version, as the
// library did before late deliveries were handled: a request that lands
// after that is then applied on top of a second write. Only the late-write
// tests use it, to show that they catch the double applies.
func SetUnsafeForgetLostWrites(o *Options) { o.forgetLostWrites = true }
