package rules

import (
	_ "embed"
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
