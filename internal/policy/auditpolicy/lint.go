package auditpolicy

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/audittui/audittui/internal/data"
	audit "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Severities of lint findings.
const (
	SevError   = "error"
	SevWarning = "warning"
	SevInfo    = "info"
)

// Finding codes.
const (
	CodeInvalid          = "invalid"            // the apiserver refuses the policy
	CodeUnknownField     = "unknown-field"      // ignored by the apiserver (lenient fallback)
	CodeShadowed         = "shadowed"           // no request ever reaches the rule
	CodePartlyShadowed   = "partly-shadowed"    // some listed verbs/resources never reach it
	CodeCatchAllNotLast  = "catch-all-not-last" // a rule without selectors hides every later rule
	CodeNoCatchAll       = "no-catch-all"       // unmatched requests are not logged
	CodeRequestReceived  = "request-received"   // RequestReceived stage not omitted
	CodeSecretBodies     = "secret-bodies"      // secret values / tokens in the log
	CodeSubresourceTrap  = "subresource-trap"   // "pods" does not match "pods/exec"
	CodeListWatchBodies  = "list-watch-bodies"  // list/watch at RequestResponse
	CodeBlindsDetection  = "blinds-detection"   // an alert rule cannot see its events
	CodeWrongGroup       = "wrong-group"        // a well-known resource listed under another API group
	maxExamplesInMessage = 4
)

// Finding is one lint result.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"` // 0 when unknown
	Rule     int    `json:"rule"` // 0-based rule index, -1 for the whole policy
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Fix      string `json:"fix"`
}

// LintOptions tune Lint.
type LintOptions struct {
	// Detections are the enabled alert rules; the policy must not hide
	// their events.
	Detections []Detection
}

// LintLoadError turns a policy the apiserver refuses into findings.
func LintLoadError(le *LoadError) []Finding {
	var out []Finding
	for _, is := range le.Issues {
		f := Finding{File: le.File, Line: is.Line, Rule: ruleOfPath(is.Field), Severity: SevError, Code: CodeInvalid,
			Message: is.Msg, Fix: "fix the field: the apiserver refuses to start with this policy"}
		if strings.HasPrefix(is.Msg, "unknown field") || strings.Contains(is.Msg, "already set in map") {
			f.Severity, f.Code = SevWarning, CodeUnknownField
			f.Fix = unknownFieldFix(is.Field)
		}
		if is.Field == "apiVersion" {
			f.Fix = "set apiVersion: audit.k8s.io/v1"
			if strings.Contains(is.Msg, "v1beta1") || strings.Contains(is.Msg, "v1alpha1") {
				f.Fix += " (the rules keep their meaning: a v1beta1 policy has the same fields)"
			}
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, Finding{File: le.File, Rule: -1, Severity: SevError, Code: CodeInvalid,
			Message: le.Err.Error(), Fix: "the apiserver refuses to start with this policy"})
	}
	sortFindings(out)
	return out
}

// Lint reviews a loaded policy.
func Lint(p *Policy, opts LintOptions) []Finding {
	l := &linter{p: p, rules: p.API.Rules, space: p.probeSpace()}
	l.unknownFields()
	l.catchAll()
	l.shadowing()
	l.requestReceived()
	l.sensitive()
	l.subresourceTraps()
	l.wrongGroups()
	l.listWatch()
	for i := range opts.Detections {
		d := &opts.Detections[i]
		if len(d.Sides) == 0 {
			l.blinds(d)
		}
		// Each side of a two-sided rule on its own: what it selects, at
		// the level it needs.
		for k := range d.Sides {
			l.blinds(&d.Sides[k])
		}
	}
	sortFindings(l.out)
	return l.out
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].File != fs[j].File {
			return fs[i].File < fs[j].File
		}
		return fs[i].Line < fs[j].Line
	})
}

type linter struct {
	p     *Policy
	rules []audit.PolicyRule
	space *probeSpace
	out   []Finding
}

func (l *linter) add(rule int, sev, code, msg, fix string) {
	l.addAt(0, rule, sev, code, msg, fix)
}

// addAt records a finding at line (0: the rule's line, or the rules key
// for policy-wide findings).
func (l *linter) addAt(line, rule int, sev, code, msg, fix string) {
	if line <= 0 {
		line = l.p.RuleLine(rule)
	}
	if rule < 0 {
		line = l.p.Line("rules")
	}
	l.out = append(l.out, Finding{File: l.p.File, Line: line, Rule: rule, Severity: sev, Code: code, Message: msg, Fix: fix})
}

func ruleName(i int) string { return fmt.Sprintf("rule %d", i) }

func (l *linter) ruleRef(i int) string {
	if i < 0 {
		return "no rule (default None)"
	}
	if line := l.p.RuleLine(i); line > 0 {
		return fmt.Sprintf("rule %d (line %d, %s)", i, line, l.rules[i].Level)
	}
	return fmt.Sprintf("rule %d (%s)", i, l.rules[i].Level)
}

// ruleOfPath returns i for a field path under rules[i], else -1.
func ruleOfPath(path string) int {
	steps := parsePath(path)
	if len(steps) >= 2 && steps[0].key == "rules" && steps[1].index >= 0 {
		return steps[1].index
	}
	return -1
}

// --- unknown fields -------------------------------------------------------

var knownKeys = map[string][]string{
	"policy":         {"apiVersion", "kind", "metadata", "rules", "omitStages", "omitManagedFields"},
	"rule":           {"level", "users", "userGroups", "verbs", "resources", "namespaces", "nonResourceURLs", "omitStages", "omitManagedFields"},
	"groupResources": {"group", "resources", "resourceNames"},
}

func unknownFieldFix(path string) string {
	steps := parsePath(path)
	if len(steps) == 0 {
		return "remove the field: the apiserver ignores it"
	}
	last := steps[len(steps)-1].key
	ctx := "policy"
	switch {
	case len(steps) >= 4 && steps[len(steps)-3].key == "resources":
		ctx = "groupResources"
	case len(steps) >= 3 && steps[0].key == "rules":
		ctx = "rule"
	}
	if s := closest(last, knownKeys[ctx]); s != "" {
		return fmt.Sprintf("rename %q to %q: the apiserver ignores unknown fields (it logs a warning and decodes leniently)", last, s)
	}
	return fmt.Sprintf("remove %q: the apiserver ignores it (valid fields here: %s)", last, strings.Join(knownKeys[ctx], ", "))
}

// closest returns the candidate within edit distance 2 of s (a swap of
// two neighbouring letters counts 1), if any.
func closest(s string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := data.EditDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func (l *linter) unknownFields() {
	for _, is := range l.p.Warnings {
		rule := ruleOfPath(is.Field)
		msg := is.Msg + ": the apiserver ignores it"
		steps := parsePath(is.Field)
		// An ignored key inside a resources entry can leave the entry
		// without resources, which then matches the whole API group.
		if rule >= 0 && len(steps) >= 4 && steps[2].key == "resources" && steps[3].index >= 0 {
			gi := steps[3].index
			if gi < len(l.rules[rule].Resources) && len(l.rules[rule].Resources[gi].Resources) == 0 {
				g := l.rules[rule].Resources[gi].Group
				if g == "" {
					g = "core"
				}
				msg += fmt.Sprintf(", so this entry lists no resources and %s matches every resource of group %s at %s",
					ruleName(rule), g, l.rules[rule].Level)
			}
		}
		l.out = append(l.out, Finding{File: l.p.File, Line: is.Line, Rule: rule, Severity: SevWarning,
			Code: CodeUnknownField, Message: msg, Fix: unknownFieldFix(is.Field)})
	}
}

// --- catch-all ------------------------------------------------------------

func (l *linter) catchAll() {
	last := len(l.rules) - 1
	found := false
	for i := range l.rules {
		if !isCatchAll(&l.rules[i]) {
			continue
		}
		found = true
		if i < last {
			l.add(i, SevError, CodeCatchAllNotLast,
				fmt.Sprintf("%s has no selectors, so it matches every request at %s and rules %d-%d are never used",
					ruleName(i), l.rules[i].Level, i+1, last),
				"move this rule to the end of rules (or give it selectors)")
		}
	}
	if !found {
		l.add(last, SevWarning, CodeNoCatchAll,
			"no catch-all rule: requests that match no rule are not logged at all (level None)",
			"end rules with a catch-all such as `- level: Metadata` (with omitStages: [RequestReceived])")
	}
}

// --- shadowing ------------------------------------------------------------

func (l *linter) shadowing() {
	for j := 1; j < len(l.rules); j++ {
		as := atoms(&l.rules[j])
		coverer := make([]int, len(as))
		covered := 0
		for k := range as {
			coverer[k] = -1
			for i := 0; i < j; i++ {
				if covers(&l.rules[i], &as[k]) {
					coverer[k] = i
					covered++
					break
				}
			}
		}
		if covered == 0 {
			continue
		}
		differs := false
		var by []int
		for _, c := range coverer {
			if c < 0 {
				continue
			}
			if !slices.Contains(by, c) {
				by = append(by, c)
			}
			if l.rules[c].Level != l.rules[j].Level {
				differs = true
			}
		}
		refs := make([]string, len(by))
		for i, c := range by {
			refs[i] = l.ruleRef(c)
		}
		if covered == len(as) {
			sev := SevWarning
			msg := fmt.Sprintf("%s (%s) is never used: every request it matches is matched first by %s",
				ruleName(j), l.rules[j].Level, strings.Join(refs, ", "))
			if !differs {
				sev = SevInfo
				msg += " at the same level"
			}
			l.add(j, sev, CodeShadowed, msg,
				"move it above "+ruleName(by[0])+" if its level should win, or delete it")
			continue
		}
		if !differs {
			continue
		}
		var lost []string
		for k, c := range coverer {
			if c >= 0 && l.rules[c].Level != l.rules[j].Level {
				lost = append(lost, fmt.Sprintf("%s (gets %s from %s)", describeAtom(&as[k]), l.rules[c].Level, ruleName(c)))
			}
		}
		l.add(j, SevWarning, CodePartlyShadowed,
			fmt.Sprintf("%s (%s) is partly shadowed: %s never reach it", ruleName(j), l.rules[j].Level, joinCapped(lost)),
			"move it above "+ruleName(by[0])+", or drop those verbs/resources from it")
	}
}

func joinCapped(xs []string) string {
	if len(xs) > maxExamplesInMessage {
		return strings.Join(xs[:maxExamplesInMessage], "; ") + fmt.Sprintf("; and %d more", len(xs)-maxExamplesInMessage)
	}
	return strings.Join(xs, "; ")
}

// --- RequestReceived ------------------------------------------------------

func (l *linter) requestReceived() {
	if hasStage(l.p.API.OmitStages, audit.StageRequestReceived) {
		return
	}
	var missing []int
	logged := 0
	for i, r := range l.rules {
		if r.Level == audit.LevelNone {
			continue
		}
		logged++
		if !hasStage(r.OmitStages, audit.StageRequestReceived) {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return
	}
	const why = "every request is logged twice (RequestReceived, then ResponseComplete), and the first event adds volume without adding facts"
	if len(missing) == logged {
		l.add(-1, SevWarning, CodeRequestReceived, "RequestReceived is not omitted: "+why,
			`add omitStages: ["RequestReceived"] at the top level of the policy`)
		return
	}
	for _, i := range missing {
		l.add(i, SevWarning, CodeRequestReceived,
			fmt.Sprintf("%s (%s) does not omit RequestReceived: %s", ruleName(i), l.rules[i].Level, why),
			`add omitStages: ["RequestReceived"] to this rule (or at the top level of the policy)`)
	}
}

func hasStage(stages []audit.Stage, s audit.Stage) bool {
	for _, x := range stages {
		if x == s {
			return true
		}
	}
	return false
}

// --- secrets and tokens ---------------------------------------------------

type sensitiveTarget struct {
	group, resource string // resource may be "res/sub"
	verbs           []string
	what            string
	// leaks says whether a request with verb at level puts the secret in
	// the log, and where.
	leaks func(level, verb string) (string, bool)
	fix   string
}

var sensitiveTargets = []sensitiveTarget{
	{
		group: "", resource: "secrets", verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"},
		what: "secret values",
		leaks: func(level, verb string) (string, bool) {
			switch {
			case level == LevelRequestResponse && verb != "watch":
				return "response bodies", true
			case level == LevelRequest && (verb == "create" || verb == "update" || verb == "patch"):
				return "request bodies", true
			}
			return "", false
		},
		fix: `log secrets at Metadata: put "- level: Metadata / resources: [{group: \"\", resources: [secrets]}]" before this rule`,
	},
	{
		group: "", resource: "serviceaccounts/token", verbs: []string{"create"},
		what: "service account tokens",
		leaks: func(level, verb string) (string, bool) {
			return "TokenRequest responses", level == LevelRequestResponse
		},
		fix: `log serviceaccounts/token at Metadata: put "- level: Metadata / resources: [{group: \"\", resources: [serviceaccounts/token]}]" before this rule`,
	},
	{
		group: "authentication.k8s.io", resource: "tokenreviews", verbs: []string{"create"},
		what: "bearer tokens",
		leaks: func(level, verb string) (string, bool) {
			return "TokenReview request bodies", LevelRank(level) >= LevelRank(LevelRequest)
		},
		fix: `log tokenreviews at Metadata: put "- level: Metadata / resources: [{group: authentication.k8s.io, resources: [tokenreviews]}]" before this rule`,
	},
}

// namesResource reports whether rule r lists resource (group/res[/sub])
// explicitly rather than through a group-wide entry or "*".
func namesResource(r *audit.PolicyRule, group, resource string) bool {
	res, sub, _ := strings.Cut(resource, "/")
	for _, g := range r.Resources {
		if g.Group != group && g.Group != "*" {
			continue
		}
		for _, pat := range g.Resources {
			if pat != "*" && parseRes(pat).matchesConcrete(res, sub) {
				return true
			}
		}
	}
	return false
}

type leakAcc struct {
	verbs, who, where map[string]bool
}

func newLeakAcc() *leakAcc {
	return &leakAcc{verbs: map[string]bool{}, who: map[string]bool{}, where: map[string]bool{}}
}

func (l *linter) sensitive() {
	for _, t := range sensitiveTargets {
		effective := map[int]*leakAcc{}
		ifReached := map[int]*leakAcc{}
		for _, pr := range l.space.resourceProbes(t.group, t.resource, t.verbs) {
			d := l.p.EvaluateAttributes(pr.attrs)
			if where, ok := t.leaks(d.Level, pr.attrs.Verb); ok && d.Rule >= 0 {
				acc(effective, d.Rule, pr, where)
			}
			for j := range l.rules {
				if j == d.Rule || !namesResource(&l.rules[j], t.group, t.resource) {
					continue
				}
				where, ok := t.leaks(string(l.rules[j].Level), pr.attrs.Verb)
				if ok && l.p.single[j].EvaluatePolicyRule(pr.attrs).Level != audit.LevelNone {
					acc(ifReached, j, pr, where)
				}
			}
		}
		for _, j := range sortedInts(effective) {
			a := effective[j]
			l.add(j, SevError, CodeSecretBodies,
				fmt.Sprintf("%s logs %s on %s at %s for %s: %s end up in the audit log (%s)",
					ruleName(j), joinSet(a.verbs), t.resource, l.rules[j].Level, whoText(a.who), t.what, joinSet(a.where)),
				t.fix)
		}
		for _, j := range sortedInts(ifReached) {
			if effective[j] != nil {
				continue
			}
			a := ifReached[j]
			l.add(j, SevWarning, CodeSecretBodies,
				fmt.Sprintf("%s would log %s on %s at %s if it were reached (earlier rules take these requests now): %s would end up in the audit log (%s)",
					ruleName(j), joinSet(a.verbs), t.resource, l.rules[j].Level, t.what, joinSet(a.where)),
				"lower this rule to Metadata for "+t.resource+" before reordering the policy")
		}
	}
}

func acc(m map[int]*leakAcc, rule int, pr probe, where string) {
	a := m[rule]
	if a == nil {
		a = newLeakAcc()
		m[rule] = a
	}
	a.verbs[pr.attrs.Verb] = true
	a.who[pr.who] = true
	a.where[where] = true
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// joinSet lists verbs in the usual order, other values sorted.
func joinSet(m map[string]bool) string {
	var out []string
	for _, v := range commonVerbs {
		if m[v] {
			out = append(out, v)
		}
	}
	for _, k := range sortedKeys(m) {
		if !has(out, k) {
			out = append(out, k)
		}
	}
	return strings.Join(out, ",")
}

func whoText(who map[string]bool) string {
	if who["any user"] {
		return "any user"
	}
	ks := sortedKeys(who)
	if len(ks) > maxExamplesInMessage {
		return strings.Join(ks[:maxExamplesInMessage], ", ") + fmt.Sprintf(" and %d more", len(ks)-maxExamplesInMessage)
	}
	return strings.Join(ks, ", ")
}

// --- subresource traps ----------------------------------------------------

// trapSubresources lists, per core resource, subresources whose requests
// matter for security and the verb clients use for them.
var trapSubresources = map[string][]struct{ sub, verb string }{
	"pods": {{"exec", "create"}, {"attach", "create"}, {"portforward", "create"}, {"proxy", "get"},
		{"log", "get"}, {"ephemeralcontainers", "patch"}},
	"nodes":           {{"proxy", "get"}},
	"services":        {{"proxy", "get"}},
	"serviceaccounts": {{"token", "create"}},
}

func (l *linter) subresourceTraps() {
	for j := range l.rules {
		r := &l.rules[j]
		for _, g := range r.Resources {
			if g.Group != "" && g.Group != "*" {
				continue
			}
			for _, res := range g.Resources {
				subs, ok := trapSubresources[res]
				if !ok {
					continue
				}
				var lower []string
				for _, s := range subs {
					if len(r.Verbs) > 0 && !has(r.Verbs, s.verb) {
						continue
					}
					attrs := authorizer.AttributesRecord{
						User: probeIdentity(r), Verb: s.verb, Namespace: probeNS(r, res), APIGroup: "",
						APIVersion: "v1", Resource: res, Subresource: s.sub, Name: probeObjectName(g), ResourceRequest: true,
					}
					if l.p.single[j].EvaluatePolicyRule(attrs).Level != audit.LevelNone {
						continue // the rule lists the subresource too
					}
					d := l.p.EvaluateAttributes(attrs)
					if d.Rule >= 0 && namesResource(&l.rules[d.Rule], "", res+"/"+s.sub) {
						continue // another rule names the subresource: its level is a choice
					}
					if LevelRank(d.Level) < LevelRank(string(r.Level)) {
						lower = append(lower, fmt.Sprintf("%s/%s gets %s from %s", res, s.sub, d.Level, l.ruleRefShort(d.Rule)))
					}
				}
				if len(lower) == 0 {
					continue
				}
				l.add(j, SevWarning, CodeSubresourceTrap,
					fmt.Sprintf("%s lists %q at %s, which does not match its subresources: %s",
						ruleName(j), res, r.Level, joinCapped(lower)),
					fmt.Sprintf("add %q (or the subresources you mean, e.g. %q) to this rule's resources", res+"/*", res+"/"+subs[0].sub))
			}
		}
	}
}

func (l *linter) ruleRefShort(i int) string {
	if i < 0 {
		return "no rule"
	}
	return ruleName(i)
}

func probeIdentity(r *audit.PolicyRule) user.Info {
	u := &user.DefaultInfo{Name: probeUser, Groups: []string{user.AllAuthenticated}}
	if len(r.Users) > 0 {
		u.Name = r.Users[0]
	}
	if len(r.UserGroups) > 0 {
		u.Groups = append([]string{r.UserGroups[0]}, u.Groups...)
	}
	return u
}

func probeNS(r *audit.PolicyRule, res string) string {
	if clusterScoped[res] {
		return ""
	}
	if len(r.Namespaces) > 0 {
		return r.Namespaces[0]
	}
	return probeNamespace
}

func probeObjectName(g audit.GroupResources) string {
	if len(g.ResourceNames) > 0 {
		return g.ResourceNames[0]
	}
	return probeName
}

// --- list/watch at RequestResponse ---------------------------------------

func (l *linter) listWatch() {
	for j := range l.rules {
		r := l.rules[j]
		if r.Level != audit.LevelRequestResponse || kindOf(&r) == kindNonResource {
			continue
		}
		var lw []string
		for _, v := range []string{"list", "watch"} {
			if len(r.Verbs) == 0 || has(r.Verbs, v) {
				lw = append(lw, v)
			}
		}
		if len(lw) == 0 {
			continue
		}
		r.Verbs = lw
		var reach []string
		for _, a := range atoms(&r) {
			taken := false
			for i := 0; i < j; i++ {
				if covers(&l.rules[i], &a) {
					taken = true
					break
				}
			}
			if !taken {
				reach = append(reach, describeAtom(&a))
			}
		}
		if len(reach) == 0 {
			continue
		}
		l.add(j, SevWarning, CodeListWatchBodies,
			fmt.Sprintf("%s logs list/watch at RequestResponse (%s): a list response is the whole collection, so log volume grows with cluster size",
				ruleName(j), joinCapped(reach)),
			"add a rule before it with verbs: [list, watch] at Metadata (or Request), or list only the verbs you need in this rule")
	}
}

// --- detections -----------------------------------------------------------

// blinds reports the rules that drop, or log below the level it needs,
// requests an alert rule could select. Only requests the rule's own query
// could select count (its verbs, resources, groups, users, namespaces,
// URIs, ... as far as a request fixes them, see queryModel): a None rule
// for events does not blind a rule about webhook configurations.
func (l *linter) blinds(det *Detection) {
	var probes []probe
	verbs := det.Verbs
	if len(verbs) == 0 {
		verbs = commonVerbs
	}
	space := l.space.narrow(det)
	resources := det.Resources
	generic := len(resources) == 0
	if generic {
		resources = append(append([]GroupResource(nil), commonResources...), l.queryTargets(det)...)
		probes = append(probes, space.pathProbes(commonPaths, []string{"get"})...)
	}
	for _, gr := range resources {
		res := gr.Resource
		if res == "" {
			probes = append(probes, space.pathProbes(commonPaths, verbs)...)
			continue
		}
		name, sub, _ := strings.Cut(res, "/")
		if name == "*" {
			if sub == "" {
				if gr.Group != "*" {
					// Every resource of one group: those the query or the
					// policy names, and the others.
					for _, r := range l.groupResources(gr.Group, det) {
						probes = append(probes, space.resourceProbes(gr.Group, r, verbs)...)
					}
					continue
				}
				for _, c := range commonResources {
					probes = append(probes, space.resourceProbes(c.Group, c.Resource, verbs)...)
				}
				continue
			}
			name = subresourceParent[sub]
			if name == "" {
				name = "pods"
			}
			res = name + "/" + sub
		}
		group := gr.Group
		if group == "*" {
			group = knownGroups[name]
		}
		probes = append(probes, space.resourceProbes(group, res, verbs)...)
	}
	type blind struct {
		examples, who map[string]bool
		anyUser       bool // blinds requests of users the policy does not name
	}
	byRule := map[int]*blind{}
	blinded, selectable := 0, 0
	seen := map[string]bool{}
	for _, pr := range probes {
		a := pr.attrs
		key := strings.Join([]string{pr.who, a.User.GetName(), strings.Join(a.User.GetGroups(), ","), a.Verb, a.Path,
			a.Namespace, a.APIGroup, a.Resource, a.Subresource, a.Name}, "\x00")
		if seen[key] || !det.admitsProbe(pr.attrs) {
			continue
		}
		seen[key] = true
		selectable++
		d := l.p.EvaluateAttributes(pr.attrs)
		if LevelRank(d.Level) >= LevelRank(det.NeedsLevel) && !d.Omits(string(audit.StageResponseComplete)) {
			continue
		}
		blinded++
		b := byRule[d.Rule]
		if b == nil {
			b = &blind{examples: map[string]bool{}, who: map[string]bool{}}
			byRule[d.Rule] = b
		}
		b.examples[describeProbe(pr.attrs, d.Rule >= 0 && len(l.rules[d.Rule].Namespaces) > 0)] = true
		b.who[pr.who] = true
		if pr.who == anyUser {
			b.anyUser = true
		}
	}
	if blinded == 0 {
		return
	}
	sev := SevWarning
	if generic {
		sev = SevInfo // a rule over every request always has blind spots; say where
	}
	all := blinded == selectable
	// When nothing the rule selects is logged as it needs, the rules that
	// blind it for users the policy does not name are why it never fires;
	// one that drops only, say, system:anonymous's requests is a blind
	// spot like any other.
	anyUserBlinded := false
	for _, b := range byRule {
		anyUserBlinded = anyUserBlinded || b.anyUser
	}
	for _, rule := range sortedInts(byRule) {
		b := byRule[rule]
		level := LevelNone
		if rule >= 0 {
			level = string(l.rules[rule].Level)
		}
		ex := sortedKeys(b.examples)
		what := fmt.Sprintf("%s logs %s at %s for %s", ruleName(rule), joinCapped(ex), level, whoText(b.who))
		if rule < 0 {
			what = fmt.Sprintf("no rule matches %s for %s, so they are not logged", joinCapped(ex), whoText(b.who))
		}
		rsev := sev
		msg := fmt.Sprintf("alert %s needs its events at %s or above, but %s", det.Name, det.NeedsLevel, what)
		if all && (b.anyUser || !anyUserBlinded) {
			rsev = SevError
			msg = fmt.Sprintf("alert %s can never fire (it needs its events at %s or above): %s", det.Name, det.NeedsLevel, what)
		}
		if rule >= 0 && hasStage(l.rules[rule].OmitStages, audit.StageResponseComplete) {
			msg += " (and omits ResponseComplete)"
		}
		fix := fmt.Sprintf("add a rule before %s that logs these requests at %s, or raise its level", l.ruleRefShort(rule), det.NeedsLevel)
		if rule < 0 {
			fix = fmt.Sprintf("add a catch-all rule at %s at the end of the policy", det.NeedsLevel)
		}
		l.add(rule, rsev, CodeBlindsDetection, msg, fix)
	}
}

// queryTargets are the resources a detection that selects any resource
// names in its query (inside `or` too): ServiceAccountInteractiveRequest's
// pods/exec and selfsubjectrulesreviews.
func (l *linter) queryTargets(det *Detection) []GroupResource {
	if det.model == nil {
		return nil
	}
	var out []GroupResource
	for _, r := range det.model.resources {
		if r != "" {
			out = append(out, GroupResource{knownGroups[r], r})
		}
	}
	for _, s := range det.model.subresources {
		if s == "" {
			continue
		}
		parent := subresourceParent[s]
		if parent == "" {
			parent = "pods"
		}
		out = append(out, GroupResource{knownGroups[parent], parent + "/" + s})
	}
	return out
}

// groupResources lists the resources to probe for a detection that selects
// every resource of group: those its query names, those the policy lists
// for the group, and probeResource for all others.
func (l *linter) groupResources(group string, det *Detection) []string {
	var out []string
	if det.model != nil {
		for _, r := range det.model.resources {
			if r != "" && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	for _, r := range l.rules {
		for _, g := range r.Resources {
			if g.Group != group {
				continue
			}
			for _, res := range g.Resources {
				if name, _, _ := strings.Cut(res, "/"); name != "*" && !slices.Contains(out, res) {
					out = append(out, res)
				}
			}
		}
	}
	return append(out, probeResource)
}

// --- resources under the wrong API group ---------------------------------

// wrongGroups flags well-known resources listed under a group they do not
// belong to ("deployments" under the core group ""): such an entry never
// matches them.
func (l *linter) wrongGroups() {
	for j := range l.rules {
		for gi, g := range l.rules[j].Resources {
			if g.Group != "" {
				// Other groups may define any resource name (OpenShift
				// serves tokenreviews.oauth.openshift.io); the core
				// group's resources are a fixed set.
				continue
			}
			for _, res := range g.Resources {
				name, _, _ := strings.Cut(res, "/")
				want, ok := knownGroups[name]
				if !ok || want == g.Group {
					continue
				}
				l.addAt(l.p.Line(fmt.Sprintf("rules[%d].resources[%d]", j, gi)), j, SevWarning, CodeWrongGroup,
					fmt.Sprintf("%s lists %q under group %s, but %s are in group %s: this entry never matches them",
						ruleName(j), res, groupName(g.Group), name, groupName(want)),
					fmt.Sprintf("move %q to an entry with group: %q", res, want))
			}
		}
	}
}

func groupName(g string) string {
	if g == "" {
		return `"" (core)`
	}
	return g
}
