package rules

import (
	"bytes"
	_ "embed"
	"strconv"
)

// builtinName is the name messages use for the embedded pack.
const builtinName = "builtin.yaml"

//go:embed builtin.yaml
var builtinYAML []byte

// BuiltinYAML returns the built-in pack as a Loki ruler file (what
// `audittui alerts export` writes): builtin.yaml with its list
// placeholders expanded with the default lists.
func BuiltinYAML() ([]byte, error) { return BuiltinYAMLWith(nil) }

// BuiltinYAMLWith returns the built-in pack expanded with lists (nil: the
// defaults), for Loki's ruler.
func BuiltinYAMLWith(ls *Lists) ([]byte, error) { return ExpandYAML(builtinYAML, ls) }

// BuiltinSource returns builtin.yaml as written, placeholders and all.
func BuiltinSource() []byte { return append([]byte(nil), builtinYAML...) }

// Builtin parses the built-in pack. It cannot fail at run time: the
// package's tests load it.
func Builtin() (*Set, error) { return Parse(builtinName, builtinYAML) }

// builtinSelector is the stream selector of every rule of the pack.
const builtinSelector = `{job="audit"}`

// BuiltinFor parses the built-in pack with its rules selecting job
// instead of job="audit" ({job="kube-audit"}: the sources' audit events
// carry that job, --label job=kube-audit). "" or "audit" is Builtin. The
// rules' lines are those of builtin.yaml.
func BuiltinFor(job string) (*Set, error) {
	return Parse(builtinName, builtinForJob(builtinYAML, job))
}

// BuiltinYAMLFor is BuiltinYAMLWith for a pack selecting job (BuiltinFor).
func BuiltinYAMLFor(ls *Lists, job string) ([]byte, error) {
	return ExpandYAML(builtinForJob(builtinYAML, job), ls)
}

// builtinForJob rewrites the pack's selector. Every expression is a block
// scalar, where the quoted value (strconv.Quote: LogQL's escapes, one
// line) needs no YAML escaping.
func builtinForJob(src []byte, job string) []byte {
	if job == "" || job == "audit" {
		return src
	}
	return bytes.ReplaceAll(src, []byte(builtinSelector), []byte("{job="+strconv.Quote(job)+"}"))
}
