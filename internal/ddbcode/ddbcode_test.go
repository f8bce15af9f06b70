package ddbcode

import "testing"

func TestCodes(t *testing.T) {
	for _, c := range []struct {
		code                          string
		throttled, transient, refused bool
	}{
		{"ProvisionedThroughputExceededException", true, true, false},
		{"TransactionConflictException", true, true, false},
		{"InternalServerError", false, true, false},
		{ConditionalCheckFailed, false, false, false},
		{TransactionCanceled, false, false, true},
		{"LimitExceededException", false, false, true},
		{"SomethingNew", false, false, false},
	} {
		if got := Throttled(c.code); got != c.throttled {
			t.Errorf("Throttled(%s) = %v", c.code, got)
		}
		if got := Transient(c.code); got != c.transient {
			t.Errorf("Transient(%s) = %v", c.code, got)
		}
		if got := Permanent(c.code); got != c.refused {
			t.Errorf("Permanent(%s) = %v", c.code, got)
		}
	}
	for code, want := range map[string]bool{ReasonTransactionConflict: true, "ThrottlingError": true, ReasonConditionalCheckFailed: false, ReasonNone: false} {
		if got := ReasonThrottled(code); got != want {
			t.Errorf("ReasonThrottled(%s) = %v", code, got)
		}
	}
}
