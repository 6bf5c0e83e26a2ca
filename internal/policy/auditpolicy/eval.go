package auditpolicy

import (
	"strings"

	audit "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/audittui/audittui/internal/data"
)

// Decision is what the policy says about one request.
type Decision struct {
	// Level is the audit level the apiserver's evaluator returns.
	Level string
	// Rule is the 0-based index of the first matching rule, -1 when no rule
	// matches (the level is then None).
	Rule int
	// OmitStages are the stages not logged for this request (policy-level
	// and rule-level omitStages merged, as the apiserver does).
	OmitStages []string
	// OmitManagedFields tells whether managedFields are dropped from bodies.
	OmitManagedFields bool
}

// Omits reports whether stage is omitted.
func (d Decision) Omits(stage string) bool {
	for _, s := range d.OmitStages {
		if s == stage {
			return true
		}
	}
	return false
}

// IsResourceRequest reports whether the event was a resource request: it
// carries an objectRef. Requests without objectRef (/healthz, /version,
// /apis discovery, ...) are non-resource requests.
func IsResourceRequest(e *data.Event) bool {
	return e.Resource != "" || e.Subresource != "" || e.APIGroup != "" ||
		e.Namespace != "" || e.Name != "" || e.ObjAPIVer != ""
}

// Attributes builds the request attributes the apiserver's audit filter
// hands to the policy evaluator. The user is the authenticated user (audit
// runs before impersonation in the apiserver's handler chain), and a
// non-resource request's path is the request URI without its query.
func Attributes(e *data.Event) authorizer.Attributes {
	u := &user.DefaultInfo{Name: e.User, UID: e.UID, Groups: e.Groups}
	if IsResourceRequest(e) {
		group, version := groupVersion(e)
		return authorizer.AttributesRecord{
			User:            u,
			Verb:            e.Verb,
			Namespace:       e.Namespace,
			APIGroup:        group,
			APIVersion:      version,
			Resource:        e.Resource,
			Subresource:     e.Subresource,
			Name:            e.Name,
			ResourceRequest: true,
			Path:            uriPath(e.RequestURI),
		}
	}
	return authorizer.AttributesRecord{
		User: u,
		Verb: e.Verb,
		Path: uriPath(e.RequestURI),
	}
}

// groupVersion returns objectRef's API group and version. The apiserver
// writes them separately (apiGroup "apps", apiVersion "v1"); some tools
// write "apps/v1" in apiVersion and no apiGroup, which is read as the same
// request.
func groupVersion(e *data.Event) (group, version string) {
	group, version = e.APIGroup, e.ObjAPIVer
	if i := strings.LastIndexByte(version, '/'); i >= 0 {
		if group == "" {
			group = version[:i]
		}
		version = version[i+1:]
	}
	return group, version
}

func uriPath(uri string) string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		return uri[:i]
	}
	return uri
}

// Evaluate returns the policy's decision for an event.
func (p *Policy) Evaluate(e *data.Event) Decision {
	return p.EvaluateAttributes(Attributes(e))
}

// EvaluateAttributes returns the decision for request attributes. The level
// and stages come from the apiserver's evaluator over the whole policy; the
// rule index is the first one-rule evaluator (same code, one rule each)
// that matches. By construction they agree: TestRuleIndexAgrees checks it
// for every real policy and event.
func (p *Policy) EvaluateAttributes(attrs authorizer.Attributes) Decision {
	cfg := p.full.EvaluatePolicyRule(attrs)
	d := Decision{Level: string(cfg.Level), Rule: -1, OmitManagedFields: cfg.OmitManagedFields}
	for _, s := range cfg.OmitStages {
		d.OmitStages = append(d.OmitStages, string(s))
	}
	for i, ev := range p.single {
		if ev.EvaluatePolicyRule(attrs).Level != audit.LevelNone {
			d.Rule = i
			break
		}
	}
	return d
}

// LevelFor returns the level the policy gives an event and the 0-based
// index of the rule that decides it (-1 when no rule matches).
func (p *Policy) LevelFor(e *data.Event) (level string, rule int) {
	d := p.Evaluate(e)
	return d.Level, d.Rule
}
