package repo

import (
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbocc/ddbocc/versioned"
)

// TableOptions shape the table [Repository.CreateTable] creates. The key
// schema, the secondary indexes and the time-to-live attribute come from the
// item type's tags; these options say how the table is billed, tagged and
// streamed. They apply only to a table that CreateTable creates: an existing
// table is accepted with its own billing, tags and stream.
type TableOptions struct {
	// BillingMode is types.BillingModePayPerRequest (on demand) or
	// types.BillingModeProvisioned. Default "": on demand.
	BillingMode types.BillingMode

	// Capacity is the table's provisioned throughput, required (both
	// units at least 1) with provisioned billing and refused without it.
	Capacity Capacity

	// IndexCapacity is the provisioned throughput of global secondary
	// indexes, by index name; a global index not listed gets Capacity.
	// Every name must be a global index of the item type: local indexes
	// share the table's throughput. Only with provisioned billing.
	// Default: none.
	IndexCapacity map[string]Capacity

	// Tags are the table's resource tags, key to value. Creating a table
	// with tags needs the dynamodb:TagResource permission besides
	// dynamodb:CreateTable. Default: none.
	Tags map[string]string

	// StreamViewType turns on the table's stream with this view type
	// (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES). Default "":
	// no stream.
	StreamViewType types.StreamViewType
}

// Capacity is provisioned throughput in read and write capacity units.
type Capacity struct {
	Read, Write int64
}

// validate checks the options against the item type's schema s, before any
// request is sent.
func (o *TableOptions) validate(s *versioned.Schema) error {
	switch o.BillingMode {
	case "", types.BillingModePayPerRequest:
		if o.Capacity != (Capacity{}) {
			return invalid("TableOptions.Capacity %+v is set, but billing is on demand; set BillingMode to %s", o.Capacity, types.BillingModeProvisioned)
		}
		if len(o.IndexCapacity) > 0 {
			return invalid("TableOptions.IndexCapacity is set, but billing is on demand; set BillingMode to %s", types.BillingModeProvisioned)
		}
	case types.BillingModeProvisioned:
		if o.Capacity.Read < 1 || o.Capacity.Write < 1 {
			return invalid("TableOptions.Capacity is %+v: provisioned billing needs at least 1 read and 1 write unit", o.Capacity)
		}
	default:
		return invalid("TableOptions.BillingMode %q: want %s or %s", o.BillingMode, types.BillingModePayPerRequest, types.BillingModeProvisioned)
	}
	for _, name := range sortedTableKeys(o.IndexCapacity) {
		c := o.IndexCapacity[name]
		ix, ok := s.Index(name)
		switch {
		case !ok:
			return invalid("TableOptions.IndexCapacity names index %q, which %s does not declare (it has %v)", name, s.Type(), indexNames(s))
		case !ix.Global:
			return invalid("TableOptions.IndexCapacity names local index %q, which shares the table's capacity", name)
		case c.Read < 1 || c.Write < 1:
			return invalid("TableOptions.IndexCapacity[%q] is %+v: want at least 1 read and 1 write unit", name, c)
		}
	}
	for _, k := range sortedTableKeys(o.Tags) {
		switch v := o.Tags[k]; {
		case k == "" || len(k) > 128:
			return invalid("TableOptions.Tags: key %q: want 1 to 128 characters", k)
		case len(v) > 256:
			return invalid("TableOptions.Tags[%q]: value of %d characters, want at most 256", k, len(v))
		}
	}
	if len(o.Tags) > 50 {
		return invalid("TableOptions.Tags: %d tags, DynamoDB allows 50", len(o.Tags))
	}
	if o.StreamViewType != "" && !slices.Contains(o.StreamViewType.Values(), o.StreamViewType) {
		return invalid("TableOptions.StreamViewType %q: want one of %v", o.StreamViewType, o.StreamViewType.Values())
	}
	return nil
}

// provisioned returns the throughput of the table, or of global index ix
// (nil for the table), or nil under on-demand billing.
func (o *TableOptions) provisioned(ix *versioned.Index) *types.ProvisionedThroughput {
	if o.BillingMode != types.BillingModeProvisioned {
		return nil
	}
	c := o.Capacity
	if ix != nil {
		if ic, ok := o.IndexCapacity[ix.Name]; ok {
			c = ic
		}
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: &c.Read, WriteCapacityUnits: &c.Write}
}

func indexNames(s *versioned.Schema) []string {
	var names []string
	for _, ix := range s.Indexes() {
		names = append(names, ix.Name)
	}
	return names
}

func sortedTableKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
