package repo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Adoption: items stored without the version attribute (written before
// the library, or by another program) are read at version 0, as
// versioned.Schema.StoredVersion reads a missing, NULL or 0 version. Get,
// Query and Update decode them like any other item.
//
// Version 0 of a stored item is not the version 0 of a new one: a write
// based on a version-less item it read is conditioned on the item existing
// at version 0 (versionless; versioned.Schema.Versionless for the requests
// built by the SDK's expression builder), never on its absence, and
// stores version 1 with its write id under 1, as every versioned write
// stores its own under the version it creates. So two programs that adopt
// one item race on that condition like any two writers: the loser gets the
// item the winner stored (ALL_OLD, now at version 1) and, in an Update,
// applies its fn to it. A write whose answer was lost is settled by its id
// like any other save (writeid.go).
//
// Who knows that version 0 means "stored": Update and Upsert read the
// item (or get it from the failed write), so their loop knows it. A value
// the caller holds does not say whether it was read from a version-less
// item or made anew, so Save of a version-0 value is a Create and Delete
// refuses it, unless the call sets Options.Adopt ([Adopting]).
//
// Programs that keep a version but not the id map, such as Java's
// DynamoDBMapper and the Enhanced client's @DynamoDbVersionAttribute
// (version 1 first, +1 a write, condition "version = old"), interoperate:
// their writes move the version on and fail ours as ours fail theirs. A
// put by such a program replaces the whole item and drops the id map with
// the ids of our writes in it; a lost write of ours that finds no map, or
// a map that a later write of ours had to start anew (its wipe mark,
// writeid.go), is never taken for one that failed: ErrOutcomeUnknown, not
// a second apply. A writer that stores the item without the version
// attribute after it was adopted is outside the protocol: its writes and
// the writes it overwrites cannot be told apart.

// Adopting makes a call's Save or Delete of an item at version 0 a write
// on the stored, version-less item it was read from: conditioned on the
// item existing without a version (missing, NULL or 0), Save stores it at
// version 1 and Delete removes it. It sets Options.Adopt; pass it to
// [Repository.Save] or [Repository.Delete], or to [New] to make every
// Save and Delete of a version-0 item adopting.
func Adopting(o *Options) { o.Adopt = true }

// versionlessCond writes the condition of a write based on a stored item at
// version 0: it exists, and its version attribute is missing, NULL or 0.
// It is versioned.Schema.Versionless, written directly as a save's
// condition is (wire.go).
func (w write) versionlessCond(e *exprBuf) string {
	v := e.path(w.schema.VersionAttr())
	return "attribute_exists(" + e.path(w.schema.HashAttr()) + ") AND (attribute_not_exists(" + v + ") OR " +
		e.equals(v, number(0)) + " OR attribute_type(" + v + ", " + e.value(&types.AttributeValueMemberS{Value: "NULL"}) + "))"
}
