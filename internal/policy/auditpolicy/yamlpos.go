package auditpolicy

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// positions maps field paths of a policy document ("rules[2].resources[4].resource",
// the form apimachinery uses in strict-decoding and validation errors) to
// 1-based line numbers in the file. The apiserver converts YAML to JSON before
// decoding, which loses positions; this second walk over the same bytes
// recovers them.
type positions struct {
	root *yaml.Node // the document's top mapping, nil if the file is empty
}

// parsePositions parses b as YAML. A syntax error is returned with its line
// as go.yaml.in/yaml reports it.
func parsePositions(b []byte) (*positions, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			return &positions{}, nil
		}
		return nil, err
	}
	p := &positions{}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		p.root = doc.Content[0]
	}
	return p, nil
}

// pathStep is one step of a field path: a key or an index.
type pathStep struct {
	key   string
	index int // -1 for a key step
}

var stepRE = regexp.MustCompile(`^([^\[\]]*)((?:\[\d+\])*)$`)
var indexRE = regexp.MustCompile(`\[(\d+)\]`)

// parsePath splits "rules[2].resources[4].resource" into steps. Indexes may
// be missing ("rules.verbs" from encoding/json type errors): such a step
// matches the first element that has the rest of the path.
func parsePath(path string) []pathStep {
	var steps []pathStep
	for _, part := range strings.Split(path, ".") {
		m := stepRE.FindStringSubmatch(part)
		if m == nil {
			steps = append(steps, pathStep{key: part, index: -1})
			continue
		}
		if m[1] != "" {
			steps = append(steps, pathStep{key: m[1], index: -1})
		}
		for _, im := range indexRE.FindAllStringSubmatch(m[2], -1) {
			n, _ := strconv.Atoi(im[1])
			steps = append(steps, pathStep{index: n})
		}
	}
	return steps
}

// line returns the line of the node at path (for a key, the line of the
// key), or the line of the deepest node found on the way when the path does
// not fully exist (an unknown field is present in YAML, so it is usually
// found). 0 means unknown.
func (p *positions) line(path string) int {
	if p == nil || p.root == nil {
		return 0
	}
	line, _ := walk(p.root, parsePath(path))
	return line
}

// walk follows steps from n. It returns the best line found and whether the
// whole path matched.
func walk(n *yaml.Node, steps []pathStep) (int, bool) {
	if len(steps) == 0 {
		return n.Line, true
	}
	st := steps[0]
	switch {
	case st.index >= 0:
		if n.Kind != yaml.SequenceNode || st.index >= len(n.Content) {
			return n.Line, false
		}
		return walk(n.Content[st.index], steps[1:])
	case n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value != st.key {
				continue
			}
			if len(steps) == 1 {
				return k.Line, true
			}
			return walk(v, steps[1:])
		}
		return n.Line, false
	case n.Kind == yaml.SequenceNode:
		// A path without indexes ("rules.verbs"): try each element.
		best := n.Line
		for _, c := range n.Content {
			l, ok := walk(c, steps)
			if ok {
				return l, true
			}
			if l > best {
				best = l
			}
		}
		return best, false
	}
	return n.Line, false
}

// ruleLines returns the line of each element of the top-level rules list.
func (p *positions) ruleLines() []int {
	if p == nil || p.root == nil || p.root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(p.root.Content); i += 2 {
		if p.root.Content[i].Value != "rules" {
			continue
		}
		seq := p.root.Content[i+1]
		if seq.Kind != yaml.SequenceNode {
			return nil
		}
		out := make([]int, len(seq.Content))
		for j, c := range seq.Content {
			out[j] = c.Line
		}
		return out
	}
	return nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// lineInMessage extracts "line N" from a go-yaml error message, or 0.
func lineInMessage(msg string) int {
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// quotedPath extracts the field path from `unknown field "rules[2].x"`.
var quotedRE = regexp.MustCompile(`"([^"]*)"`)

func quotedPath(msg string) string {
	m := quotedRE.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	return m[1]
}

func lineSuffix(line int) string {
	if line <= 0 {
		return ""
	}
	return fmt.Sprintf(":%d", line)
}
