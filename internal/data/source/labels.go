package source

import (
	"fmt"
	"strings"

	"github.com/audittui/audittui/internal/data"
)

// labelFlag is --label NAME=VALUE (repeatable): stream labels the file and
// S3 sources give their events, as a shipper's Labels option gives the
// streams it pushes (Fluent Bit's `Labels job=kube-audit`), so that a
// team's ruler files, written for the labels its Loki has, select the
// same events in files. A job among them also sets the job the built-in
// rules, the filter shorthand and the default --loki-selector select.
type labelFlag struct{ labels data.Labels }

func (f *labelFlag) String() string {
	parts := make([]string, len(f.labels))
	for i, l := range f.labels {
		parts[i] = l.Name + "=" + l.Value
	}
	return strings.Join(parts, ",")
}

func (f *labelFlag) Type() string { return "name=value" }

// Set checks and adds one label. Names are Loki's (letters, digits and
// _, not first a digit; __ names are reserved); filename is each file's
// path and cannot be set; a name of the audit event's fields
// (user_username, verb, ...) would hide that field from `| json` (Loki
// renames an extracted label that clashes with a stream label to
// NAME_extracted), so it is refused.
func (f *labelFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	name = strings.TrimSpace(name)
	switch {
	case !ok:
		return fmt.Errorf("%q: want NAME=VALUE, e.g. job=kube-audit", v)
	case !data.ValidLabelName(name):
		return fmt.Errorf("%q: %q is not a label name (letters, digits and _, not first a digit)", v, name)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("%q: names starting with __ are reserved", v)
	case value == "":
		return fmt.Errorf("%q: the value is empty (an empty label is no label)", v)
	case name == "filename":
		return fmt.Errorf("%q: filename is each file's own path (or object's URL): it cannot be set", v)
	case name != "cluster" && data.KnownField(name):
		return fmt.Errorf("%q: %s is a field of the audit events: a stream label of that name would hide it from | json (which calls it %s_extracted then)", v, name, name)
	}
	if _, dup := f.labels.Get(name); dup {
		return fmt.Errorf("%q: label %s is given twice", v, name)
	}
	f.labels = append(f.labels, data.Label{Name: name, Value: value})
	return nil
}
