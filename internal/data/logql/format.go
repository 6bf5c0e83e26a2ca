package logql

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode"
	"unicode/utf8"
)

// This file implements `| line_format "{{.verb}} {{.user_username}}"` and
// `| label_format dst="{{.a}}-{{.b}}", renamed=src` with Go text/template
// and a subset of Loki's template functions (see templateFuncs). Missing
// labels render as "". `__line__` is the current line.

// lineFormatStage is `| line_format "template"`.
type lineFormatStage struct {
	src string
	t   *lineTemplate
}

func (s *lineFormatStage) String() string { return "| line_format " + strconv.Quote(s.src) }

// labelFormatStage is `| label_format a="tmpl", b=c`.
type labelFormatStage struct {
	items []labelFormatItem
	dsts  []string // every destination name
	srcs  []string // renamed source names (removed)
}

type labelFormatItem struct {
	dst    string
	rename string // source label for dst=src, else ""
	src    string // template source
	t      *lineTemplate
}

func (s *labelFormatStage) String() string {
	parts := make([]string, len(s.items))
	for i, it := range s.items {
		if it.rename != "" {
			parts[i] = it.dst + "=" + it.rename
		} else {
			parts[i] = it.dst + "=" + strconv.Quote(it.src)
		}
	}
	return "| label_format " + strings.Join(parts, ", ")
}

// lineTemplate is a compiled template and the labels it reads.
type lineTemplate struct {
	t       *template.Template
	fields  []string // label names referenced as .name
	needAll bool     // the template uses . itself (or with/range)
}

const lineField = "__line__"

var hugeWidthRe = regexp.MustCompile(`%[-+# 0]*(\*|\d{4,})|\.(\*|\d{4,})`)

var tmplLineRe = regexp.MustCompile(`^(\d+): `)

// lineFuncRe finds the __line__ function so it can be read from the data.
var lineFuncRe = regexp.MustCompile(`(^|[^.\w])__line__\b`)

func compileTemplate(src string) (*lineTemplate, error) {
	// __line__ is a function in Loki; here it is rewritten to a field of
	// the template data, so one parsed template serves every goroutine.
	rewritten := rewriteActions(src, func(action string) string {
		return lineFuncRe.ReplaceAllString(action, "${1}."+lineField)
	})
	t, err := template.New("").Option("missingkey=zero").Funcs(templateFuncs).Parse(rewritten)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "template: :")
		return nil, fmt.Errorf("%s", tmplLineRe.ReplaceAllString(msg, "template line $1: "))
	}
	lt := &lineTemplate{t: t}
	seen := map[string]bool{}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if n == nil || lt.needAll {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.FieldNode:
			if len(n.Ident) > 0 && !seen[n.Ident[0]] {
				seen[n.Ident[0]] = true
				lt.fields = append(lt.fields, n.Ident[0])
			}
		case *parse.DotNode, *parse.RangeNode, *parse.WithNode, *parse.TemplateNode, *parse.ChainNode, *parse.VariableNode:
			lt.needAll = true
		}
	}
	walk(t.Tree.Root)
	return lt, nil
}

// rewriteActions applies fn to the inside of every {{ ... }} action.
func rewriteActions(src string, fn func(string) string) string {
	var b strings.Builder
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			b.WriteString(src)
			return b.String()
		}
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			b.WriteString(src)
			return b.String()
		}
		b.WriteString(src[:i+2])
		b.WriteString(fn(src[i+2 : i+j]))
		b.WriteString("}}")
		src = src[i+j+2:]
	}
}

// render executes the template with the entry's current labels and line.
func (lt *lineTemplate) render(st *evalState, line []byte) (string, error) {
	data := make(map[string]string, len(lt.fields)+1)
	if lt.needAll {
		for _, l := range st.fullLabels() {
			data[l.Name] = l.Value
		}
	} else {
		for _, f := range lt.fields {
			if v, ok := st.lookup(f); ok {
				data[f] = v
			}
		}
	}
	data[lineField] = string(line)
	var b strings.Builder
	if err := lt.t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// templateFuncs is the subset of Loki's template functions audittui
// supports (Loki's own names, Go's and sprig-style variants).
var templateFuncs = template.FuncMap{
	// printf replaces the builtin to refuse huge widths (%999999999d),
	// which would allocate without bound.
	"printf": func(format string, args ...any) (string, error) {
		if hugeWidthRe.MatchString(format) {
			return "", fmt.Errorf("printf: width or precision too large in %q", format)
		}
		return fmt.Sprintf(format, args...), nil
	},
	"ToLower":    strings.ToLower,
	"ToUpper":    strings.ToUpper,
	"Replace":    strings.Replace,
	"Trim":       strings.Trim,
	"TrimLeft":   strings.TrimLeft,
	"TrimRight":  strings.TrimRight,
	"TrimPrefix": strings.TrimPrefix,
	"TrimSuffix": strings.TrimSuffix,
	"TrimSpace":  strings.TrimSpace,
	"lower":      strings.ToLower,
	"upper":      strings.ToUpper,
	"title": func(s string) string {
		prev := ' '
		return strings.Map(func(r rune) rune {
			defer func() { prev = r }()
			if unicode.IsSpace(prev) {
				return unicode.ToTitle(r)
			}
			return r
		}, s)
	},
	"trim":       strings.TrimSpace,
	"trimAll":    func(cut, s string) string { return strings.Trim(s, cut) },
	"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
	"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
	"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
	"contains":   func(sub, s string) bool { return strings.Contains(s, sub) },
	"hasPrefix":  func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
	"hasSuffix":  func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
	"repeat": func(n int, s string) (string, error) {
		if n < 0 || n*len(s) > 1<<20 {
			return "", fmt.Errorf("repeat: count %d out of range", n)
		}
		return strings.Repeat(s, n), nil
	},
	"trunc": func(n int, s string) string {
		if n >= 0 {
			if utf8.RuneCountInString(s) > n {
				return string([]rune(s)[:n])
			}
			return s
		}
		r := []rune(s)
		if -n < len(r) {
			return string(r[len(r)+n:])
		}
		return s
	},
	"substr": func(start, end int, s string) string {
		r := []rune(s)
		if start < 0 {
			start = 0
		}
		if end < 0 || end > len(r) {
			end = len(r)
		}
		if start > end {
			return ""
		}
		return string(r[start:end])
	},
	"default": func(def string, v ...string) string {
		if len(v) == 0 || v[0] == "" {
			return def
		}
		return v[0]
	},
	"alignLeft": func(n int, s string) string {
		if n < 0 || n > 1<<16 {
			return s
		}
		r := []rune(s)
		if len(r) >= n {
			return string(r[:n])
		}
		return s + strings.Repeat(" ", n-len(r))
	},
	"alignRight": func(n int, s string) string {
		if n < 0 || n > 1<<16 {
			return s
		}
		r := []rune(s)
		if len(r) >= n {
			return string(r[len(r)-n:])
		}
		return strings.Repeat(" ", n-len(r)) + s
	},
	"regexReplaceAll": func(re, s, repl string) (string, error) {
		r, err := regexp.Compile(re)
		if err != nil {
			return "", err
		}
		return r.ReplaceAllString(s, repl), nil
	},
	"regexReplaceAllLiteral": func(re, s, repl string) (string, error) {
		r, err := regexp.Compile(re)
		if err != nil {
			return "", err
		}
		return r.ReplaceAllLiteralString(s, repl), nil
	},
	"b64enc": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"b64dec": func(s string) (string, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		return string(b), err
	},
}

// FormatsLine reports whether the query has a line_format stage: the
// line it prints is the one Process returns, not the entry's.
func (q *LogQuery) FormatsLine() bool {
	for _, s := range q.stages {
		if _, ok := s.(*lineFormatStage); ok {
			return true
		}
	}
	return false
}
