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
// handed to the policy evaluator (GetAuthorizerAttributes over the
// RequestInfo it parsed from the URL, before reading the body).
//
//   - The user is the authenticated user (audit runs before impersonation
//     in the apiserver's handler chain) and the verb is the logged one (the
//     apiserver logs the verb it evaluated).
//   - An event without objectRef is a non-resource request on the request
//     URI's path.
//   - A resource request's namespace and name are those of its requestURI,
//     parsed as the apiserver parses it (parseRequestURI), when that URI is
//     a request for objectRef's group, resource and subresource, as it is
//     for every event an apiserver wrote: the apiserver copies objectRef from
//     the same RequestInfo, and then fills in the name (and namespace) that
//     the URL lacked from the request body, after the policy was evaluated.
//     So a create (POST to the collection) had no name; a namespace's own
//     requests (/api/v1/namespaces/NAME) had namespace NAME; a list or watch
//     with fieldSelector=metadata.name=NAME had name NAME.
//   - Without a requestURI (some managed-cluster exports), or when it does
//     not agree with objectRef (the event was edited or made by hand, or the
//     apiserver had other API prefixes), objectRef is read as it is, except
//     that a create without subresource has no name.
//
// A create without subresource never has a name, whatever the URI says:
// the requestURI of GKE's export, rebuilt from its resourceName, names the
// created object. The one request this gets wrong is a POST to an item
// path (/api/v1/namespaces/NS/pods/NAME), which the apiserver evaluated
// with the name and then refused (405 Method Not Allowed).
func Attributes(e *data.Event) authorizer.Attributes {
	u := &user.DefaultInfo{Name: e.User, UID: e.UID, Groups: e.Groups}
	ri, rawQuery := parseRequestURI(e.RequestURI)
	if !IsResourceRequest(e) {
		return authorizer.AttributesRecord{
			User: u,
			Verb: e.Verb,
			Path: ri.path,
		}
	}
	group, version := groupVersion(e)
	a := authorizer.AttributesRecord{
		User:            u,
		Verb:            e.Verb,
		Namespace:       e.Namespace,
		APIGroup:        group,
		APIVersion:      version,
		Resource:        e.Resource,
		Subresource:     e.Subresource,
		Name:            e.Name,
		ResourceRequest: true,
		Path:            ri.path,
	}
	if ri.isResource && !ri.bad && ri.resource == a.Resource && ri.subresource == a.Subresource && ri.apiGroup == a.APIGroup {
		a.Namespace, a.Name, a.APIVersion = ri.namespace, ri.name, ri.apiVersion
		if a.Name == "" && !ri.verbInPath && (e.Verb == "list" || e.Verb == "watch" || e.Verb == "get") {
			a.Name = nameFromFieldSelector(rawQuery)
		}
	}
	if e.Verb == "create" && a.Subresource == "" {
		a.Name = ""
	}
	return a
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
