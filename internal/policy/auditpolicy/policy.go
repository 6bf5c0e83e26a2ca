// Package auditpolicy loads Kubernetes audit policies exactly as the
// apiserver does, evaluates them with the apiserver's own policy rule
// evaluator, lints them and replays audit events through them.
//
// Nothing here re-implements policy semantics: loading goes through
// k8s.io/apiserver/pkg/audit/policy (strict decoding, lenient fallback,
// validation) and every level comes from
// policy.NewPolicyRuleEvaluator(...).EvaluatePolicyRule. The index of the
// matching rule, which that evaluator does not return, is found by running
// the same evaluator over one-rule policies (see Evaluate).
package auditpolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"
	audit "k8s.io/apiserver/pkg/apis/audit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/apis/audit/validation"
	auditpkg "k8s.io/apiserver/pkg/audit"
	kpolicy "k8s.io/apiserver/pkg/audit/policy"
)

// Audit levels, in increasing order of detail.
const (
	LevelNone            = string(audit.LevelNone)
	LevelMetadata        = string(audit.LevelMetadata)
	LevelRequest         = string(audit.LevelRequest)
	LevelRequestResponse = string(audit.LevelRequestResponse)
)

// LevelRank orders levels: None 0, Metadata 1, Request 2, RequestResponse 3.
// An unknown or empty level ranks -1.
func LevelRank(level string) int {
	switch level {
	case LevelNone:
		return 0
	case LevelMetadata:
		return 1
	case LevelRequest:
		return 2
	case LevelRequestResponse:
		return 3
	}
	return -1
}

// Issue is one problem found while loading a policy.
type Issue struct {
	Line  int    // 1-based line in the policy file, 0 when unknown
	Field string // field path such as rules[2].resources[4].resource, when known
	Msg   string // the apiserver's message
}

// LoadError says the apiserver would refuse the policy.
type LoadError struct {
	File   string
	Issues []Issue
	// Err is the error the apiserver's loader returned.
	Err error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %s is not loadable by the apiserver", e.File)
	for _, is := range e.Issues {
		fmt.Fprintf(&b, "\n  %s%s: %s", e.File, lineSuffix(is.Line), is.Msg)
	}
	if len(e.Issues) == 0 && e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// Policy is an audit policy loaded as the apiserver loads it, ready to
// evaluate.
type Policy struct {
	// File names the policy in messages.
	File string
	// API is the policy as the apiserver's loader returned it (before the
	// evaluator merges policy-level omitStages into each rule). Read-only.
	API *audit.Policy
	// RuleLines[i] is the 1-based line where rule i starts (0 if unknown).
	RuleLines []int
	// Warnings are the strict-decoding errors (unknown or duplicate
	// fields) the apiserver tolerates with a warning, falling back to
	// lenient decoding: the field is ignored.
	Warnings []Issue

	pos    *positions
	full   auditpkg.PolicyRuleEvaluator
	single []auditpkg.PolicyRuleEvaluator
}

// LoadFile reads and loads the policy at path.
func LoadFile(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", path, err)
	}
	return Parse(path, b)
}

// Parse loads a policy from bytes; name is used in messages. The returned
// error is a *LoadError when the apiserver would refuse the policy.
func Parse(name string, b []byte) (*Policy, error) {
	// Positions are only for messages: if go-yaml cannot parse what the
	// apiserver's YAML reader can, lines are simply unknown.
	pos, posErr := parsePositions(b)
	if posErr != nil {
		pos = nil
	}
	warnings := strictIssues(b, pos)

	var (
		api *audit.Policy
		err error
	)
	if len(warnings) == 0 {
		api, err = kpolicy.LoadPolicyFromBytes(b)
	} else {
		// The apiserver's loader would log the strict errors through klog
		// and carry on leniently; do the same steps here so the warnings
		// reach the user as findings rather than stderr noise.
		api, err = loadLenient(b)
	}
	if err != nil {
		if msg := notAPolicy(b); msg != "" {
			// Not a policy at all: the decoder's words (a conversion
			// from v1.Event, unknown fields) would not say so.
			return nil, &LoadError{File: name, Err: err, Issues: []Issue{{Line: 1, Field: "kind", Msg: msg}}}
		}
		issues, badVersion := loadIssues(b, err, pos, posErr)
		if !badVersion {
			// Without a known apiVersion the strict decoder's complaints
			// are artifacts ("unknown field rules"); keep them otherwise.
			issues = append(warnings, issues...)
		}
		return nil, &LoadError{File: name, Err: err, Issues: issues}
	}

	p := &Policy{File: name, API: api.DeepCopy(), Warnings: warnings, pos: pos}
	p.RuleLines = make([]int, len(api.Rules))
	if pos != nil {
		lines := pos.ruleLines()
		for i := range p.RuleLines {
			if i < len(lines) {
				p.RuleLines[i] = lines[i]
			}
		}
	}
	p.full = kpolicy.NewPolicyRuleEvaluator(api.DeepCopy())
	p.single = make([]auditpkg.PolicyRuleEvaluator, len(api.Rules))
	for i := range api.Rules {
		r := api.Rules[i].DeepCopy()
		// A one-rule policy whose rule is forced to a level other than
		// None: the evaluator returns Metadata when the rule matches and
		// its default (None) when it does not.
		r.Level = audit.LevelMetadata
		p.single[i] = kpolicy.NewPolicyRuleEvaluator(&audit.Policy{Rules: []audit.PolicyRule{*r}})
	}
	return p, nil
}

// notAPolicy says what the file is when its first document has a kind
// other than Policy: an audit log (kind Event, one JSON object per line, or
// an EventList) given where a policy is asked for, most often. "" when it
// has no kind or is a Policy.
func notAPolicy(b []byte) string {
	var doc struct {
		Kind       string `json:"kind" yaml:"kind"`
		APIVersion string `json:"apiVersion" yaml:"apiVersion"`
		Groups     any    `json:"groups" yaml:"groups"`
	}
	t := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(t) > 0 && t[0] == '{' {
		first, _, _ := bytes.Cut(t, []byte("\n"))
		if json.Unmarshal(first, &doc) != nil && json.Unmarshal(t, &doc) != nil {
			return ""
		}
	} else if yaml.Unmarshal(b, &doc) != nil {
		return ""
	}
	switch doc.Kind {
	case "":
		if doc.Groups != nil {
			return "this is a Loki ruler file (groups: of alert rules), not an audit policy (kind: Policy): rule files go to --rules"
		}
		return ""
	case "Policy":
		return ""
	case "Event", "EventList":
		kind := doc.Kind
		if doc.APIVersion != "" {
			kind += " (" + doc.APIVersion + ")"
		}
		return "kind " + kind + ": this is an audit log, not an audit policy (kind: Policy): give the policy file here and the log as a SOURCE"
	}
	return fmt.Sprintf("kind %s: not an audit policy (kind: Policy, apiVersion: audit.k8s.io/v1)", doc.Kind)
}

// Line returns the line of a field path in the policy file (0 if unknown).
func (p *Policy) Line(path string) int { return p.pos.line(path) }

// RuleLine returns the line of rule i (0 if unknown).
func (p *Policy) RuleLine(i int) int {
	if i < 0 || i >= len(p.RuleLines) {
		return 0
	}
	return p.RuleLines[i]
}

func strictDecoder() runtime.Decoder {
	return serializer.NewCodecFactory(auditpkg.Scheme, serializer.EnableStrict).UniversalDecoder()
}

// strictIssues runs the apiserver's strict decoder and returns its strict
// errors (unknown and duplicate fields) with their lines.
func strictIssues(b []byte, pos *positions) []Issue {
	_, _, err := strictDecoder().Decode(b, nil, &audit.Policy{})
	se, ok := runtime.AsStrictDecodingError(err)
	if !ok {
		return nil
	}
	var out []Issue
	for _, e := range se.Errors() {
		msg := e.Error()
		if strings.HasPrefix(msg, "yaml: unmarshal errors:") {
			// go-yaml lists duplicate keys as "  line N: key ... already set".
			for _, l := range strings.Split(msg, "\n")[1:] {
				l = strings.TrimSpace(l)
				if l == "" {
					continue
				}
				out = append(out, Issue{Line: lineInMessage(l), Msg: l})
			}
			continue
		}
		is := Issue{Msg: msg}
		if path := quotedPath(msg); path != "" {
			is.Field = path
			is.Line = pos.line(path)
		}
		out = append(out, is)
	}
	return out
}

// loadLenient repeats the steps of k8s.io/apiserver/pkg/audit/policy's
// LoadPolicyFromBytes after a strict-decoding error: lenient decoding with
// the same codecs, the apiVersion check, validation and the rule count.
// TestLoadMatchesApiserver checks that the result equals what
// LoadPolicyFromBytes returns for every real policy.
func loadLenient(b []byte) (*audit.Policy, error) {
	pol := &audit.Policy{}
	_, gvk, err := auditpkg.Codecs.UniversalDecoder(auditv1.SchemeGroupVersion).Decode(b, nil, pol)
	if err != nil {
		return nil, fmt.Errorf("failed lenient decoding: %w", err)
	}
	if gvk.GroupVersion() != auditv1.SchemeGroupVersion {
		return nil, fmt.Errorf("unknown group version field %v in policy", gvk)
	}
	if errs := validation.ValidatePolicy(pol); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	if len(pol.Rules) == 0 {
		return nil, errors.New("loaded illegal policy with 0 rules")
	}
	return pol, nil
}

// loadIssues turns the loader's error into issues with lines: validation
// errors carry field paths; decoding errors may carry a YAML line.
func loadIssues(b []byte, err error, pos *positions, posErr error) (issues []Issue, badVersion bool) {
	pol := &audit.Policy{}
	_, gvk, derr := auditpkg.Codecs.UniversalDecoder(auditv1.SchemeGroupVersion).Decode(b, nil, pol)
	if derr == nil && gvk.GroupVersion() == auditv1.SchemeGroupVersion {
		if errs := validation.ValidatePolicy(pol); len(errs) > 0 {
			out := make([]Issue, 0, len(errs))
			for _, fe := range errs {
				out = append(out, fieldIssue(fe, pos))
			}
			return out, false
		}
	}
	msg := err.Error()
	is := Issue{Msg: msg, Line: lineInMessage(msg)}
	if is.Line == 0 && posErr != nil {
		is.Line = lineInMessage(posErr.Error())
	}
	if derr == nil && gvk.GroupVersion() != auditv1.SchemeGroupVersion {
		is.Field = "apiVersion"
		is.Line = pos.line("apiVersion")
		is.Msg = fmt.Sprintf("apiVersion must be %s (the apiserver says: %s)", auditv1.SchemeGroupVersion, msg)
		return []Issue{is}, true
	}
	if m := unservedVersionRe.FindStringSubmatch(msg); m != nil {
		// audit.k8s.io/v1beta1 (or a made-up version): the decoder
		// knows no such Policy, so the message names the scheme's
		// source line rather than the policy's.
		is.Field = "apiVersion"
		is.Line = pos.line("apiVersion")
		is.Msg = fmt.Sprintf("apiVersion %s is not served: current apiservers load audit policies of %s only (v1beta1 and v1alpha1 were removed)",
			m[1], auditv1.SchemeGroupVersion)
		return []Issue{is}, true
	}
	return []Issue{is}, false
}

// unservedVersionRe matches the decoder's error for a Policy of a version
// it does not know.
var unservedVersionRe = regexp.MustCompile(`no kind "Policy" is registered for version "([^"]+)"`)

func fieldIssue(fe *field.Error, pos *positions) Issue {
	return Issue{Field: fe.Field, Line: pos.line(fe.Field), Msg: fe.Error()}
}
