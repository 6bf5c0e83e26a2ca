package history

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/audittui/audittui/internal/data"
)

// Ref names one object as kubectl does: RESOURCE[.GROUP]/NAME, with a
// namespace for namespaced resources.
type Ref struct {
	// Resource is the plural resource as the audit log's objectRef
	// names it (rolebindings, configmaps).
	Resource string
	// Group is the API group when it was given (deployments.apps/x) or
	// when GroupKnown; "" is the core group.
	Group string
	// GroupGiven: the group was part of the name typed; only then does it
	// select events (objectRef.apiGroup), so that a resource served by
	// two groups (events, ingresses of old clusters) keeps its history.
	GroupGiven bool
	Namespace  string
	Name       string
	// Kind is the object's kind when the resource is a known one
	// (RoleBinding), else "".
	Kind string
}

// String is the reference as kubectl would print it:
// rolebindings.rbac.authorization.k8s.io/payments-deployers.
func (r Ref) String() string {
	s := r.Resource
	if r.GroupGiven && r.Group != "" {
		s += "." + r.Group
	}
	return s + "/" + r.Name
}

// Display is String with the namespace in front (-n NS).
func (r Ref) Display() string {
	if r.Namespace == "" {
		return r.String()
	}
	return r.Namespace + "/" + r.String()
}

// resourceInfo describes a resource kubectl users name by short or
// singular names.
type resourceInfo struct {
	plural, group, kind string
	names               []string // short names and singular
	namespaced          bool
}

// resources are the built-in resources people ask the history of, with
// kubectl's short names (kubectl api-resources).
var resources = []resourceInfo{
	{"pods", "", "Pod", []string{"po", "pod"}, true},
	{"services", "", "Service", []string{"svc", "service"}, true},
	{"configmaps", "", "ConfigMap", []string{"cm", "configmap"}, true},
	{"secrets", "", "Secret", []string{"secret"}, true},
	{"serviceaccounts", "", "ServiceAccount", []string{"sa", "serviceaccount"}, true},
	{"namespaces", "", "Namespace", []string{"ns", "namespace"}, false},
	{"nodes", "", "Node", []string{"no", "node"}, false},
	{"persistentvolumeclaims", "", "PersistentVolumeClaim", []string{"pvc", "persistentvolumeclaim"}, true},
	{"persistentvolumes", "", "PersistentVolume", []string{"pv", "persistentvolume"}, false},
	{"endpoints", "", "Endpoints", []string{"ep"}, true},
	{"events", "", "Event", []string{"ev", "event"}, true},
	{"limitranges", "", "LimitRange", []string{"limits", "limitrange"}, true},
	{"resourcequotas", "", "ResourceQuota", []string{"quota", "resourcequota"}, true},
	{"replicationcontrollers", "", "ReplicationController", []string{"rc", "replicationcontroller"}, true},
	{"deployments", "apps", "Deployment", []string{"deploy", "deployment"}, true},
	{"replicasets", "apps", "ReplicaSet", []string{"rs", "replicaset"}, true},
	{"statefulsets", "apps", "StatefulSet", []string{"sts", "statefulset"}, true},
	{"daemonsets", "apps", "DaemonSet", []string{"ds", "daemonset"}, true},
	{"controllerrevisions", "apps", "ControllerRevision", []string{"controllerrevision"}, true},
	{"jobs", "batch", "Job", []string{"job"}, true},
	{"cronjobs", "batch", "CronJob", []string{"cj", "cronjob"}, true},
	{"roles", "rbac.authorization.k8s.io", "Role", []string{"role"}, true},
	{"rolebindings", "rbac.authorization.k8s.io", "RoleBinding", []string{"rolebinding"}, true},
	{"clusterroles", "rbac.authorization.k8s.io", "ClusterRole", []string{"clusterrole"}, false},
	{"clusterrolebindings", "rbac.authorization.k8s.io", "ClusterRoleBinding", []string{"clusterrolebinding"}, false},
	{"ingresses", "networking.k8s.io", "Ingress", []string{"ing", "ingress"}, true},
	{"networkpolicies", "networking.k8s.io", "NetworkPolicy", []string{"netpol", "networkpolicy"}, true},
	{"ingressclasses", "networking.k8s.io", "IngressClass", []string{"ingressclass"}, false},
	{"poddisruptionbudgets", "policy", "PodDisruptionBudget", []string{"pdb", "poddisruptionbudget"}, true},
	{"horizontalpodautoscalers", "autoscaling", "HorizontalPodAutoscaler", []string{"hpa", "horizontalpodautoscaler"}, true},
	{"storageclasses", "storage.k8s.io", "StorageClass", []string{"sc", "storageclass"}, false},
	{"csidrivers", "storage.k8s.io", "CSIDriver", []string{"csidriver"}, false},
	{"priorityclasses", "scheduling.k8s.io", "PriorityClass", []string{"pc", "priorityclass"}, false},
	{"leases", "coordination.k8s.io", "Lease", []string{"lease"}, true},
	{"certificatesigningrequests", "certificates.k8s.io", "CertificateSigningRequest", []string{"csr", "certificatesigningrequest"}, false},
	{"mutatingwebhookconfigurations", "admissionregistration.k8s.io", "MutatingWebhookConfiguration", []string{"mutatingwebhookconfiguration"}, false},
	{"validatingwebhookconfigurations", "admissionregistration.k8s.io", "ValidatingWebhookConfiguration", []string{"validatingwebhookconfiguration"}, false},
	{"validatingadmissionpolicies", "admissionregistration.k8s.io", "ValidatingAdmissionPolicy", []string{"validatingadmissionpolicy"}, false},
	{"validatingadmissionpolicybindings", "admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", []string{"validatingadmissionpolicybinding"}, false},
	{"customresourcedefinitions", "apiextensions.k8s.io", "CustomResourceDefinition", []string{"crd", "crds", "customresourcedefinition"}, false},
	{"apiservices", "apiregistration.k8s.io", "APIService", []string{"apiservice"}, false},
	{"endpointslices", "discovery.k8s.io", "EndpointSlice", []string{"endpointslice"}, true},
}

// lookupResource finds a resource by plural, singular, short name or kind
// (case-insensitive), optionally within a group.
func lookupResource(name, group string, groupGiven bool) (resourceInfo, bool) {
	n := strings.ToLower(name)
	for _, r := range resources {
		if groupGiven && r.group != group {
			continue
		}
		if n == r.plural || strings.ToLower(r.kind) == n {
			return r, true
		}
		for _, s := range r.names {
			if n == s {
				return r, true
			}
		}
	}
	return resourceInfo{}, false
}

// ParseRef parses kubectl's RESOURCE[.GROUP]/NAME (also "RESOURCE NAME"
// split by the caller) with the namespace of -n. Known resources accept
// their short names, singular and kind (cm, configmap, ConfigMap);
// unknown ones (custom resources) are taken as the plural resource the
// audit log records. A cluster-scoped resource takes no namespace.
func ParseRef(spec, namespace string) (Ref, error) {
	slash := strings.IndexByte(spec, '/')
	if slash <= 0 || slash == len(spec)-1 {
		return Ref{}, fmt.Errorf("object %q: want RESOURCE[.GROUP]/NAME, e.g. rolebinding/payments-deployers or deployments.apps/web", spec)
	}
	res, name := spec[:slash], spec[slash+1:]
	if strings.ContainsAny(name, "/ ") {
		return Ref{}, fmt.Errorf("object %q: the name %q holds %q", spec, name, name[strings.IndexAny(name, "/ ")])
	}
	group, groupGiven := "", false
	if i := strings.IndexByte(res, '.'); i >= 0 {
		res, group, groupGiven = res[:i], res[i+1:], true
		// kubectl also takes RESOURCE.VERSION.GROUP (deployments.v1.apps).
		if j := strings.IndexByte(group, '.'); j > 0 && isVersion(group[:j]) {
			group = group[j+1:]
		} else if isVersion(group) {
			group = "" // pods.v1: the core group
		}
	}
	if res == "" {
		return Ref{}, fmt.Errorf("object %q: no resource before the name", spec)
	}
	r := Ref{Name: name, Group: group, GroupGiven: groupGiven, Namespace: namespace}
	if info, ok := lookupResource(res, group, groupGiven); ok {
		r.Resource, r.Group, r.Kind = info.plural, info.group, info.kind
		if !info.namespaced && namespace != "" {
			return Ref{}, fmt.Errorf("object %q: %s are cluster-scoped: drop -n %s", spec, info.plural, namespace)
		}
		if info.namespaced && namespace == "" {
			r.Namespace = "default" // kubectl's default namespace
		}
	} else {
		r.Resource = strings.ToLower(res)
	}
	if r.proxied() {
		// svc/grafana:3000, as a proxy URL names it: the Service.
		r.Name = proxyTarget(r.Name)
	}
	return r, nil
}

// isVersion reports whether s looks like an API version (v1, v1beta1, v2alpha3).
func isVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] < '1' || s[1] > '9' {
		return false
	}
	i := 2
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	rest := s[i:]
	for _, p := range []string{"alpha", "beta"} {
		if strings.HasPrefix(rest, p) {
			n := rest[len(p):]
			if n == "" {
				return false
			}
			_, err := strconv.Atoi(n)
			return err == nil
		}
	}
	return rest == ""
}

// mutating are the verbs that change objects.
var mutating = []string{"create", "update", "patch", "delete"}

// connect are the subresources through which a request acts on the object
// rather than reading or writing it: a command run in a pod's container,
// a terminal attached to it, a port forwarded to it, a request proxied to
// a pod, service or node (the kubelet's API, exec included, for a node).
// The apiserver logs them with the verb of the HTTP method (its connect
// verbs): create for a POST (kubectl before 1.30, SPDY), get for a GET
// (kubectl 1.30 and later, WebSocket; portforward from 1.31), and any
// other verb through a proxy. Each is an action on the object whatever its
// verb, so a history lists them without --reads.
var connect = []string{"exec", "attach", "portforward", "proxy"}

// isAction reports whether a request of verb on the object's subresource
// sub is one a history lists without --reads: a change (create, update,
// patch, delete, of the object or a subresource) or a connect request.
func isAction(verb, sub string) bool { return isMutating(verb) || isConnect(sub) }

func isConnect(sub string) bool { return slices.Contains(connect, sub) }

// Query returns the LogQL log query that selects the events of the
// object: `audittui query` with it selects the same events (history then
// merges their stages), and it is what the TUI writes when it filters to
// the object. They are the object's own requests that change it, or act
// on it through a connect subresource whatever their verb (see connect;
// with reads, every request of the object: its get, list and watch too),
// and the deletecollection requests of its collection, which name no
// object (see deleteCollection).
func (r Ref) Query(reads bool) string { return r.QueryFor("", reads) }

// QueryFor is Query for sources whose audit events carry job (--label
// job=...; "" is "audit").
func (r Ref) QueryFor(job string, reads bool) string {
	if job == "" {
		job = "audit"
	}
	var b strings.Builder
	b.WriteString(`{job=` + strconv.Quote(job) + `} | json | objectRef_resource=` + strconv.Quote(r.Resource))
	if r.GroupGiven {
		b.WriteString(` | objectRef_apiGroup=` + strconv.Quote(r.Group))
	}
	// A cluster-scoped object's events have no namespace (="" matches
	// the absent label, as in Loki). A Namespace's own requests are the
	// exception: see selfNamespaced. With reads, a namespaced object's
	// cluster-wide list and watch (no namespace) too (collectionReads).
	wide := reads && r.Namespace != ""
	b.WriteString(` | objectRef_namespace=` + strconv.Quote(r.Namespace))
	if r.selfNamespaced() {
		b.WriteString(` or objectRef_namespace=` + strconv.Quote(r.Name))
	}
	if wide {
		b.WriteString(` or objectRef_namespace=""`)
	}
	own := `objectRef_name=` + strconv.Quote(r.Name)
	if r.proxied() {
		// A proxy request names its target [scheme:]NAME[:port].
		n := regexp.QuoteMeta(r.Name)
		own = `(` + own + ` or objectRef_subresource="proxy" and objectRef_name=~` + strconv.Quote(n+`:[^:]*|[^:]*:`+n+`:[^:]*`) + `)`
	}
	if !reads {
		own = `(` + own + ` and (verb=~"` + strings.Join(mutating, "|") + `" or objectRef_subresource=~"` + strings.Join(connect, "|") + `"))`
	}
	// The collection is the one of the object's namespace (for a
	// Namespace, the cluster-scoped one).
	coll := `objectRef_name="" and verb="` + deleteCollection + `"`
	if r.selfNamespaced() || wide {
		coll = `objectRef_namespace=` + strconv.Quote(r.Namespace) + ` and ` + coll
	}
	if wide {
		own = `(objectRef_namespace=` + strconv.Quote(r.Namespace) + ` and ` + own + `)`
	}
	b.WriteString(` | ` + own + ` or (` + coll + `)`)
	if reads {
		b.WriteString(` or (objectRef_name="" and objectRef_subresource="" and verb=~"` + strings.Join(collectionReads, "|") + `")`)
	}
	return b.String()
}

// collectionReads are the verbs of a request to the collection (no
// object named) that can return the object: with reads, a history lists
// those of its namespace and the cluster-wide ones, unless the event
// shows the request could not have returned it (readCollection).
var collectionReads = []string{"list", "watch"}

// isCollectionRead reports whether an event is a list or watch of a
// collection (no object named).
func isCollectionRead(e *data.Event) bool {
	return e.Name == "" && e.Subresource == "" && slices.Contains(collectionReads, e.Verb)
}

// Matches reports whether an event is about the object (what Query
// selects).
func (r Ref) Matches(e *data.Event, reads bool) bool {
	if e.Resource != r.Resource {
		return false
	}
	if reads && isCollectionRead(e) {
		return (e.Namespace == r.Namespace || e.Namespace == "") && (!r.GroupGiven || e.APIGroup == r.Group)
	}
	if e.Namespace != r.Namespace && (!r.selfNamespaced() || e.Namespace != r.Name) {
		return false
	}
	if r.GroupGiven && e.APIGroup != r.Group {
		return false
	}
	if e.Name == "" && e.Verb == deleteCollection {
		return e.Namespace == r.Namespace
	}
	name := e.Name
	if e.Subresource == "proxy" && r.proxied() {
		name = proxyTarget(name)
	}
	return name == r.Name && (reads || isAction(e.Verb, e.Subresource))
}

// proxied reports whether the object's requests can go through a proxy
// subresource that names it with a scheme or port (pods, services and
// nodes, core group).
func (r Ref) proxied() bool {
	return r.Group == "" && (r.Resource == "pods" || r.Resource == "services" || r.Resource == "nodes")
}

// proxyTarget returns the object a proxy request's name is about: the
// apiserver logs the path segment, which it splits as NAME, NAME:PORT or
// SCHEME:NAME:PORT (k8s.io/apimachinery/pkg/util/net.SplitSchemeNamePort:
// services/grafana:3000/proxy, pods/https:web:8443/proxy).
func proxyTarget(name string) string {
	parts := strings.Split(name, ":")
	switch len(parts) {
	case 2:
		return parts[0]
	case 3:
		return parts[1]
	}
	return name
}

// selfNamespaced reports whether the object is a Namespace (core group),
// the one cluster-scoped kind whose requests the apiserver logs with a
// namespace: its RequestInfo takes the namespace from the path
// /api/v1/namespaces/NAME[/status|/finalize], so a get, update, patch,
// finalize or delete of Namespace NAME has objectRef.namespace NAME, and
// only requests to the collection (the create, a list or watch by name)
// have none. (k8s.io/apiserver pkg/endpoints/request/requestinfo.go:
// `if currentParts[0] == "namespaces" { requestInfo.Namespace =
// currentParts[1]`.) Every other path names a namespace only as the
// parent of a namespaced resource.
func (r Ref) selfNamespaced() bool {
	return r.Resource == "namespaces" && r.Group == "" && r.Namespace == ""
}

func isMutating(verb string) bool { return slices.Contains(mutating, verb) }

// RefOf returns the reference of the object an event touched (ok is false
// for events without a named object: lists, non-resource URLs, creates
// recorded before the name was known).
func RefOf(e *data.Event) (Ref, bool) {
	if e.Resource == "" || e.Name == "" {
		return Ref{}, false
	}
	r := Ref{Resource: e.Resource, Group: e.APIGroup, Namespace: e.Namespace, Name: e.Name}
	if e.Subresource == "proxy" && r.proxied() {
		r.Name = proxyTarget(e.Name)
	}
	if r.Resource == "namespaces" && r.Group == "" && r.Namespace == r.Name {
		// A Namespace's own request (see selfNamespaced): the object is
		// cluster-scoped.
		r.Namespace = ""
	}
	if info, ok := lookupResource(e.Resource, e.APIGroup, true); ok {
		r.Kind = info.kind
	}
	return r, true
}

// Elsewhere is an object of ref's resource and name in another namespace
// than ref's, and how many events name it there.
type Elsewhere struct {
	Ref    Ref
	Events int
}

// MaxElsewhere is how many other namespaces an empty history names.
const MaxElsewhere = 5

// RankElsewhere turns counts (events by namespace that name ref's
// resource and name) into the namespaces an empty history of ref names:
// those other than ref's, the most events first, at most MaxElsewhere.
// `history rolebinding/x` is the default namespace's, as kubectl's, and an
// empty history should not leave the reader thinking nothing touched an x.
func RankElsewhere(ref Ref, counts map[string]int) []Elsewhere {
	var out []Elsewhere
	for ns, n := range counts {
		if ns == ref.Namespace || ns == "" || n == 0 {
			continue
		}
		r := ref
		r.Namespace = ns
		out = append(out, Elsewhere{r, n})
	}
	slices.SortFunc(out, func(a, b Elsewhere) int {
		if a.Events != b.Events {
			return b.Events - a.Events
		}
		return strings.Compare(a.Ref.Namespace, b.Ref.Namespace)
	})
	return out[:min(len(out), MaxElsewhere)]
}
