package auditpolicy

import (
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Lint asks "what level does request R get?" by building requests (probes)
// and running them through the apiserver's evaluator. The probe space
// takes every user, group, namespace and resource name the policy
// mentions, plus generic ones, so every rule's selectors can be hit.

const (
	probeUser      = "audittui:probe-user"
	anyUser        = "any user" // who of the identity probeUser with no other group
	probeName      = "audittui-probe-object"
	probeNamespace = "default"
	// probeResource stands for the resources of an API group that neither
	// the policy nor the detection names.
	probeResource = "audittui-probe-resources"
)

type identity struct {
	user user.Info
	who  string // for messages: "any user", "user alice", "group system:masters"
}

type probeSpace struct {
	identities []identity
	namespaces []string
	names      []string
}

type probe struct {
	attrs authorizer.AttributesRecord
	who   string
}

// Bounds of the probe space. Every rule's first user, group, namespace and
// object name are always in it (so every rule can be reached); the rest fill
// up to these caps, which keep lint fast on policies listing hundreds of
// users.
const (
	maxProbeIdentities = 64
	maxProbeNamespaces = 12
	maxProbeNames      = 12
)

// boundedSet keeps insertion order, essentials first.
type boundedSet struct {
	seen map[string]bool
	list []string
}

func (b *boundedSet) add(v string, limit int) {
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	if b.seen[v] || (limit > 0 && len(b.list) >= limit) {
		return
	}
	b.seen[v] = true
	b.list = append(b.list, v)
}

func (p *Policy) probeSpace() *probeSpace {
	var users, groups, pairs, nss, names boundedSet
	nss.add(probeNamespace, 0)
	names.add(probeName, 0)
	const sep = "\x00"
	// Essentials: the first of each list of each rule.
	for _, r := range p.API.Rules {
		if len(r.Users) > 0 {
			users.add(r.Users[0], 0)
		}
		if len(r.UserGroups) > 0 {
			groups.add(r.UserGroups[0], 0)
		}
		if len(r.Users) > 0 && len(r.UserGroups) > 0 {
			pairs.add(r.Users[0]+sep+r.UserGroups[0], 0)
		}
		if len(r.Namespaces) > 0 {
			nss.add(r.Namespaces[0], 0)
		}
		for _, gr := range r.Resources {
			if len(gr.ResourceNames) > 0 {
				names.add(gr.ResourceNames[0], 0)
			}
		}
	}
	// The rest, up to the caps.
	for _, r := range p.API.Rules {
		for _, u := range r.Users {
			users.add(u, maxProbeIdentities/2)
		}
		for _, g := range r.UserGroups {
			groups.add(g, maxProbeIdentities/4)
		}
		for _, u := range r.Users {
			for _, g := range r.UserGroups {
				pairs.add(u+sep+g, maxProbeIdentities/4)
			}
		}
		for _, ns := range r.Namespaces {
			nss.add(ns, maxProbeNamespaces)
		}
		for _, gr := range r.Resources {
			for _, n := range gr.ResourceNames {
				names.add(n, maxProbeNames)
			}
		}
	}
	s := &probeSpace{}
	s.identities = append(s.identities,
		identity{&user.DefaultInfo{Name: probeUser, Groups: []string{user.AllAuthenticated}}, anyUser},
		identity{&user.DefaultInfo{Name: user.Anonymous, Groups: []string{user.AllUnauthenticated}}, "anonymous requests"},
	)
	for _, u := range users.list {
		s.identities = append(s.identities, identity{&user.DefaultInfo{Name: u, Groups: []string{user.AllAuthenticated}}, "user " + u})
	}
	for _, g := range groups.list {
		s.identities = append(s.identities, identity{&user.DefaultInfo{Name: probeUser, Groups: []string{g, user.AllAuthenticated}}, "group " + g})
	}
	for _, pr := range pairs.list {
		u, g, _ := strings.Cut(pr, sep)
		s.identities = append(s.identities, identity{&user.DefaultInfo{Name: u, Groups: []string{g, user.AllAuthenticated}}, "user " + u + " in group " + g})
	}
	s.namespaces = nss.list
	s.names = names.list
	return s
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// clusterScoped lists common cluster-scoped resources: their requests have
// no namespace.
var clusterScoped = map[string]bool{
	"nodes": true, "namespaces": true, "persistentvolumes": true, "clusterroles": true,
	"clusterrolebindings": true, "tokenreviews": true, "subjectaccessreviews": true,
	"selfsubjectaccessreviews": true, "selfsubjectrulesreviews": true, "certificatesigningrequests": true,
	"customresourcedefinitions": true, "mutatingwebhookconfigurations": true,
	"validatingwebhookconfigurations": true, "storageclasses": true, "priorityclasses": true,
	"apiservices": true, "podsecuritypolicies": true, "runtimeclasses": true,
}

// knownGroups maps common resources to their API group, for detections
// that filter on objectRef_resource but not on the group.
var knownGroups = map[string]string{
	"pods": "", "secrets": "", "configmaps": "", "services": "", "serviceaccounts": "",
	"nodes": "", "namespaces": "", "events": "", "endpoints": "", "persistentvolumes": "",
	"persistentvolumeclaims": "",
	"deployments":            "apps", "daemonsets": "apps", "statefulsets": "apps", "replicasets": "apps",
	"jobs": "batch", "cronjobs": "batch",
	"roles": "rbac.authorization.k8s.io", "rolebindings": "rbac.authorization.k8s.io",
	"clusterroles": "rbac.authorization.k8s.io", "clusterrolebindings": "rbac.authorization.k8s.io",
	"tokenreviews":             "authentication.k8s.io",
	"subjectaccessreviews":     "authorization.k8s.io",
	"selfsubjectaccessreviews": "authorization.k8s.io",
	"selfsubjectrulesreviews":  "authorization.k8s.io",
	"leases":                   "coordination.k8s.io", "ingresses": "networking.k8s.io",
	"networkpolicies":                 "networking.k8s.io",
	"certificatesigningrequests":      "certificates.k8s.io",
	"mutatingwebhookconfigurations":   "admissionregistration.k8s.io",
	"validatingwebhookconfigurations": "admissionregistration.k8s.io",
	"customresourcedefinitions":       "apiextensions.k8s.io",
}

// subresourceParent guesses the resource of a bare subresource ("*/exec").
var subresourceParent = map[string]string{
	"exec": "pods", "attach": "pods", "portforward": "pods", "log": "pods",
	"ephemeralcontainers": "pods", "eviction": "pods", "binding": "pods",
	"token": "serviceaccounts", "proxy": "nodes", "scale": "deployments", "status": "pods",
}

// commonResources is the probe set for a detection that selects any
// resource.
var commonResources = []GroupResource{
	{"", "pods"}, {"", "pods/exec"}, {"", "pods/log"}, {"", "secrets"}, {"", "configmaps"},
	{"", "services"}, {"", "serviceaccounts"}, {"", "serviceaccounts/token"}, {"", "nodes"},
	{"", "namespaces"}, {"", "events"}, {"", "endpoints"}, {"", "pods/status"}, {"", "nodes/status"},
	{"apps", "deployments"}, {"apps", "daemonsets"}, {"batch", "jobs"},
	{"rbac.authorization.k8s.io", "roles"}, {"rbac.authorization.k8s.io", "rolebindings"},
	{"rbac.authorization.k8s.io", "clusterroles"}, {"rbac.authorization.k8s.io", "clusterrolebindings"},
	{"authentication.k8s.io", "tokenreviews"}, {"authorization.k8s.io", "subjectaccessreviews"},
	{"coordination.k8s.io", "leases"}, {"networking.k8s.io", "ingresses"},
}

var commonVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

// commonPaths are non-resource probes: the discovery documents of the
// core group, of a group and of a group version (kubectl reads each), and
// the apiserver's other well-known paths.
var commonPaths = []string{"/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/version", "/healthz", "/readyz", "/livez", "/metrics", "/openapi/v2"}

// resourceProbes builds probes for one group/resource[/sub] and verbs over
// every identity, namespace and name of the space.
func (s *probeSpace) resourceProbes(group, resource string, verbs []string) []probe {
	res, sub, _ := strings.Cut(resource, "/")
	nss := s.namespaces
	if clusterScoped[res] {
		nss = []string{""}
	}
	names := s.names
	if res == "namespaces" {
		// A Namespace's own requests (/api/v1/namespaces/NAME[/status])
		// are in namespace NAME (the apiserver's RequestInfo), so the
		// namespaces that rules select are names to probe too.
		names = append([]string(nil), s.names...)
		for _, ns := range s.namespaces {
			if ns != "" && !slices.Contains(names, ns) { // namespaces: [""] selects cluster-scoped requests
				names = append(names, ns)
			}
		}
	}
	var out []probe
	for _, id := range s.identities {
		for _, v := range verbs {
			names := names
			if v == "list" || v == "watch" || v == "deletecollection" || v == "create" && sub == "" {
				names = []string{""} // collection requests carry no name
			}
			for _, ns := range nss {
				for _, name := range names {
					if res == "namespaces" {
						ns = name
					}
					out = append(out, probe{who: id.who, attrs: authorizer.AttributesRecord{
						User: id.user, Verb: v, Namespace: ns, APIGroup: group, APIVersion: "v1",
						Resource: res, Subresource: sub, Name: name, ResourceRequest: true,
					}})
				}
			}
		}
	}
	return out
}

func (s *probeSpace) pathProbes(paths, verbs []string) []probe {
	var out []probe
	for _, id := range s.identities {
		for _, v := range verbs {
			for _, path := range paths {
				out = append(out, probe{who: id.who, attrs: authorizer.AttributesRecord{User: id.user, Verb: v, Path: path}})
			}
		}
	}
	return out
}

// describeProbe renders a probe for messages: "get secrets", "create
// pods/exec", "get /healthz".
func describeProbe(a authorizer.AttributesRecord, withNamespace bool) string {
	if !a.ResourceRequest {
		return a.Verb + " " + a.Path
	}
	r := a.Resource
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	if r == probeResource {
		r = "*" // any other resource of the group
	}
	if a.APIGroup != "" {
		r += "." + a.APIGroup
	}
	if a.Name != "" && a.Name != probeName {
		r += " named " + a.Name
	}
	if withNamespace && a.Namespace != "" && a.Resource != "namespaces" { // a Namespace is in itself
		r += " in " + a.Namespace
	}
	return a.Verb + " " + r
}

// narrow returns the space restricted to what a detection selects: its
// users, namespaces and object names when it names them.
func (s *probeSpace) narrow(d *Detection) *probeSpace {
	n := *s
	if len(d.Users) > 0 {
		n.identities = nil
		for _, u := range d.Users {
			groups := []string{user.AllAuthenticated}
			if u == user.Anonymous {
				groups = []string{user.AllUnauthenticated}
			}
			n.identities = append(n.identities, identity{&user.DefaultInfo{Name: u, Groups: groups}, "user " + u})
			// The policy may select these users through their groups.
			for _, id := range s.identities {
				if strings.HasPrefix(id.who, "group ") {
					n.identities = append(n.identities, identity{&user.DefaultInfo{Name: u, Groups: id.user.GetGroups()}, "user " + u + " in " + id.who})
				}
			}
		}
	}
	if len(d.Namespaces) > 0 {
		n.namespaces = d.Namespaces
	}
	if len(d.Names) > 0 {
		n.names = d.Names
	}
	return &n
}

// objectRefLabels are the `| json` labels of objectRef: a non-resource
// request's event has none of them (each reads "").
var objectRefLabels = []string{"objectRef_resource", "objectRef_subresource", "objectRef_apiGroup",
	"objectRef_apiVersion", "objectRef_namespace", "objectRef_name", "objectRef_uid", "objectRef_resourceVersion"}

// probeViews returns what the events of a probe's request are known to
// carry, for queryModel: one view, or for a non-resource request one per
// form of its requestURI (the path alone, and with a query string). What a
// probe only stands for is left open: the user of "any user" and of group
// identities, the namespace and object name placeholders (unless the
// detection names them), the resource placeholder, a created object's name
// (the apiserver fills it in from the body), a resource request's URI (its
// query string carries exec commands, selectors, ...).
func probeViews(a authorizer.AttributesRecord, det *Detection) []requestView {
	labels := map[string]string{}
	var frags []string
	set := func(label, key, v string) {
		labels[label] = v
		if v != "" {
			frags = append(frags, jsonPair(key, v, true))
		}
	}
	set("verb", "verb", a.Verb)
	if name := a.User.GetName(); name != probeUser {
		set("user_username", "username", name)
	}
	if !a.ResourceRequest {
		for _, l := range objectRefLabels {
			labels[l] = ""
		}
		frags = append(frags, jsonPair("requestURI", a.Path, false))
		var out []requestView
		for _, uri := range []string{a.Path, a.Path + "?timeout=32s"} {
			l := maps.Clone(labels)
			l["requestURI"] = uri
			out = append(out, requestView{labels: l, frags: frags})
		}
		return out
	}
	if a.Resource != probeResource {
		set("objectRef_resource", "resource", a.Resource)
	}
	set("objectRef_subresource", "subresource", a.Subresource)
	set("objectRef_apiGroup", "apiGroup", a.APIGroup)
	created := a.Verb == "create" && a.Subresource == ""
	nameKnown := !created && (a.Name != probeName || slices.Contains(det.Names, probeName))
	nsKnown := a.Namespace != probeNamespace || slices.Contains(det.Namespaces, probeNamespace)
	if a.Resource == "namespaces" {
		nsKnown = nameKnown // a Namespace is in itself
	}
	if nsKnown {
		set("objectRef_namespace", "namespace", a.Namespace)
	}
	if nameKnown {
		set("objectRef_name", "name", a.Name)
	}
	return []requestView{{labels: labels, frags: frags}}
}

// jsonPair renders "key":"value" as the apiserver writes it (compact JSON,
// encoding/json's escaping); open leaves the closing quote off (a value
// that may go on, such as a URI before its query string).
func jsonPair(key, v string, closed bool) string {
	b, _ := json.Marshal(v)
	s := `"` + key + `":` + string(b)
	if !closed {
		s = strings.TrimSuffix(s, `"`)
	}
	return s
}

// admitsProbe reports whether the detection's query could select an
// event of the probe's request (always, without a query model).
func (d *Detection) admitsProbe(a authorizer.AttributesRecord) bool {
	if d.model == nil {
		return true
	}
	for _, v := range probeViews(a, d) {
		if d.model.admits(&v) {
			return true
		}
	}
	return false
}
