package rules

import (
	"bytes"
	_ "embed"
	"maps"
	"slices"
	"strconv"
	"sync"
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

// Builtin returns the built-in pack. It cannot fail at run time: the
// package's tests load it.
func Builtin() (*Set, error) { return BuiltinFor("") }

// builtinSelector is the stream selector of every rule of the pack.
const builtinSelector = `{job="audit"}`

// BuiltinFor returns the built-in pack with its rules selecting job
// instead of job="audit" ({job="kube-audit"}: the sources' audit events
// carry that job, --label job=kube-audit). "" or "audit" is Builtin. The
// rules' lines are those of builtin.yaml.
//
// The pack is parsed once per job and process (YAML, LogQL and regular
// expressions: 64 ms, 390 ms under -race, for every CLI call before);
// each call returns its own copy of the groups, rules and their maps, so
// what one caller changes (Override, a lists: file re-expanding Expr, a
// label) no other caller sees. The copies share what nothing changes
// after parsing: the parsed queries, templates and lists.
func BuiltinFor(job string) (*Set, error) {
	if job == "audit" {
		job = ""
	}
	v, _ := builtinParsed.LoadOrStore(job, &builtinParse{})
	p := v.(*builtinParse)
	p.once.Do(func() { p.set, p.err = Parse(builtinName, builtinForJob(builtinYAML, job)) })
	if p.err != nil {
		return nil, p.err
	}
	return p.set.clone(), nil
}

// builtinParsed holds a *builtinParse per job BuiltinFor was asked for
// (one or two in a process: the default and --label job=...).
var builtinParsed sync.Map

type builtinParse struct {
	once sync.Once
	set  *Set
	err  error
}

// clone copies s's groups and rules, with their label and annotation
// maps and each rule's Group pointing at its copied group. The parsed
// query, the templates and the lists are shared: they are not changed
// after Parse (mergeLists gives a rule a new query, it does not edit the
// old one).
func (s *Set) clone() *Set {
	out := &Set{
		Groups:        make([]*Group, len(s.Groups)),
		Warnings:      slices.Clone(s.Warnings),
		lists:         s.lists,
		listOverrides: slices.Clone(s.listOverrides),
	}
	for i, g := range s.Groups {
		cg := *g
		cg.Rules = make([]*Rule, len(g.Rules))
		for j, r := range g.Rules {
			cr := *r
			cr.Group = &cg
			cr.Labels = maps.Clone(r.Labels)
			cr.Annotations = maps.Clone(r.Annotations)
			cg.Rules[j] = &cr
		}
		out.Groups[i] = &cg
	}
	return out
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
