package gen

import (
	"strconv"
	"strings"
	"time"
)

// People (and the CI robot) running kubectl.

const ciBotUA = "kubectl/v1.28.4 (linux/amd64) kubernetes/bae2c62"

// authorize returns whether the simulated RBAC allows u to do verb on
// resource[/sub] in ns, and the authorizer's reason.
func (w *world) authorize(u *identity, verb, resource, sub, ns string) (bool, string) {
	switch {
	case hasGroup(u, "system:masters"):
		return true, ""
	case hasGroup(u, "oidc:sre"):
		return true, rbacReason("ClusterRoleBinding", "sre-cluster-admin", "cluster-admin", "Group", "oidc:sre")
	case hasGroup(u, "oidc:dev"):
		if ns == "staging" || ns == "default" {
			if sub == "exec" || sub == "attach" || sub == "portforward" || !strings.HasPrefix(resource, "role") && !strings.HasPrefix(resource, "clusterrole") {
				return true, "RBAC: allowed by RoleBinding \"dev-edit/" + ns + "\" of ClusterRole \"edit\" to Group \"oidc:dev\""
			}
			return false, ""
		}
		if ns == "production" && readVerb(verb) && resource != "secrets" && sub == "" || sub == "log" && ns == "production" {
			return true, "RBAC: allowed by RoleBinding \"dev-view/production\" of ClusterRole \"view\" to Group \"oidc:dev\""
		}
		return false, ""
	case u.Username == "ci-bot":
		if sub == "exec" || sub == "attach" || sub == "portforward" || resource == "nodes" {
			return false, ""
		}
		return true, rbacReason("ClusterRoleBinding", "ci-deployers", "ci-deployer", "Group", "ci-deployers")
	case hasGroup(u, "contractors"):
		if (ns == "default" || ns == "staging") && readVerb(verb) && resource != "secrets" && sub != "exec" {
			return true, "RBAC: allowed by RoleBinding \"contractors-view/" + ns + "\" of ClusterRole \"view\" to Group \"contractors\""
		}
		return false, ""
	}
	return false, ""
}

func readVerb(v string) bool { return v == "get" || v == "list" || v == "watch" }

// kubectl is one kubectl request by a person or the CI robot.
func (g *Generator) kubectl() bool {
	h := pick(g, g.w.Humans)
	ua := h.UA
	if h.ID == g.w.CIBot {
		ua = ciBotUA
	}
	g.who(h.ID, h.IP, ua)
	ns := pick(g, h.Namespace)
	wl := g.workloadIn(ns)
	if wl == nil {
		g.res("list", "", "v1", "pods", ns, "", "")
		g.query("limit=500")
		g.authz()
		return true
	}
	pod := pick(g, wl.Pods)
	k := g.rng.IntN(110)
	switch {
	case k < 20:
		g.res("list", "", "v1", "pods", ns, "", "")
		g.query("limit=500")
	case k < 34:
		g.res("get", "", "v1", "pods", ns, pod, "")
	case k < 44:
		g.res("get", "", "v1", "pods", ns, pod, "log")
		g.query("container=" + wl.Container + "&tailLines=" + pick(g, []string{"100", "500", "20"}))
	case k < 52:
		g.res("patch", "apps", "v1", "deployments", ns, wl.Name, "")
		g.query("fieldManager=kubectl-client-side-apply&fieldValidation=Strict")
		if g.authz() && g.chance(0.2) {
			g.invalid("Deployment", "Deployment.apps", "spec.template.spec.containers[0].image", "FieldValueRequired", "Required value")
		}
		return true
	case k < 57:
		g.res("patch", "apps", "v1", "deployments", ns, wl.Name, "scale")
		g.query("fieldManager=kubectl-scale")
	case k < 63:
		name := pick(g, wl.ConfigMaps)
		if name == "kube-root-ca.crt" {
			name = wl.Name + "-overrides"
		}
		g.res("create", "", "v1", "configmaps", ns, "", "")
		g.query("fieldManager=kubectl-create&fieldValidation=Strict")
		g.req.Obj.Name = name
		g.created()
		g.scratch[0] = appendConfigMap(g.scratch[0], meta{Name: name, Namespace: ns}, "LOG_LEVEL", pick(g, []string{"debug", "info", "warn"}), "FEATURE_X", "true")
		g.req.RequestObject = g.scratch[0]
		if g.authz() && g.chance(0.25) {
			g.alreadyExists()
		}
		return true
	case k < 69 && len(wl.Secrets) > 0:
		name := pick(g, wl.Secrets)
		g.res("get", "", "v1", "secrets", ns, name, "")
		g.scratch[1] = g.appendSecret(g.scratch[1], true, meta{Name: name, Namespace: ns, UID: uidFrom(g.rng), RV: g.rv(), Created: g.start - 20*24*int64(time.Hour)}, secretType(name), secretKeys(name)...)
		g.req.ResponseObject = g.scratch[1]
	case k < 72 && len(wl.Secrets) > 0:
		g.res("list", "", "v1", "secrets", ns, "", "")
		g.query("limit=500")
		g.scratch[1] = g.appendSecretList(g.scratch[1], ns, wl.Secrets)
		g.req.ResponseObject = g.scratch[1]
	case k < 77:
		g.res("delete", "", "v1", "pods", ns, pod, "")
		g.scratch[0] = appendDeleteOptions(g.scratch[0], "Background")
		g.req.RequestObject = g.scratch[0]
		if g.authz() && g.chance(0.1) {
			g.notFound()
		}
		return true
	case k < 81:
		g.exec(ns, pod, wl.Container, pick(g, []string{"sh", "bash", "/bin/sh"}), "", true)
	case k < 83:
		// kubectl port-forward or kubectl attach.
		if g.chance(0.5) {
			g.res("create", "", "v1", "pods", ns, pod, "portforward")
		} else {
			g.res("create", "", "v1", "pods", ns, pod, "attach")
			g.query("container=" + wl.Container + "&stdin=true&stdout=true&tty=true")
		}
		if strings.HasPrefix(g.req.UserAgent, "kubectl/v1.3") {
			g.req.Verb = "get"
		}
		g.req.Status.Code = 101
	case k < 88 && h.Power:
		g.rbacWrite(ns)
		return true
	case k < 89:
		g.nonResource("get", pick(g, []string{"/api?timeout=32s", "/apis?timeout=32s", "/version?timeout=32s"}))
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "system:discovery", "system:discovery", "Group", "system:authenticated")
		return true
	case k < 92:
		g.res("list", "", "v1", "nodes", "", "", "")
		g.query("limit=500")
	case k < 95 && h.ID.Username == "alice@corp.example":
		// kubectl --as=bob@corp.example
		bob := g.w.Humans[1].ID
		g.req.Imp = &identity{Username: bob.Username, Groups: bob.Groups}
		g.res("list", "", "v1", "secrets", "production", "", "")
		g.query("limit=500")
	case k < 97 && h.ID == g.w.CIBot:
		g.res("list", "apps", "v1", "deployments", ns, "", "")
		g.query("limit=500")
		g.tooMany()
		g.req.AuthReason = rbacReason("ClusterRoleBinding", "ci-deployers", "ci-deployer", "Group", "ci-deployers")
		return true
	case k < 99:
		g.res("create", "", "v1", "serviceaccounts", ns, "", "")
		g.query("fieldManager=kubectl-create&fieldValidation=Strict")
		name := "job-runner-" + strconv.Itoa(g.rng.IntN(40))
		g.req.Obj.Name = name
		g.created()
		g.scratch[0] = appendServiceAccount(g.scratch[0], meta{Name: name, Namespace: ns})
		g.req.RequestObject = g.scratch[0]
		if g.authz() && g.chance(0.3) {
			g.alreadyExists()
		}
		return true
	default:
		g.res("get", "apps", "v1", "deployments", ns, pick(g, []string{"legacy-api", "old-web", "test"}), "")
		if g.authz() {
			g.notFound()
		}
		return true
	}
	g.authz()
	return true
}

// authz applies the simulated RBAC to g.req; it returns whether the
// request was allowed (and turns it into a 403 otherwise).
func (g *Generator) authz() bool {
	r := &g.req
	u := r.User
	if r.Imp != nil {
		u = r.Imp
	}
	ok, reason := g.w.authorize(u, r.Verb, r.Obj.Resource, r.Obj.Subresource, r.Obj.Namespace)
	if !ok {
		g.forbid()
		return false
	}
	r.AuthReason = reason
	return true
}

func (g *Generator) workloadIn(ns string) *workload {
	var cands [8]*workload
	n := 0
	for _, wl := range g.w.Workloads {
		if wl.NS == ns && n < len(cands) {
			cands[n] = wl
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return cands[g.rng.IntN(n)]
}

// exec is `kubectl exec`: kubectl >= 1.30 speaks WebSockets (verb get),
// older clients SPDY (verb create).
func (g *Generator) exec(ns, pod, container, cmd, arg string, tty bool) {
	g.res("create", "", "v1", "pods", ns, pod, "exec")
	if strings.HasPrefix(g.req.UserAgent, "kubectl/v1.3") {
		g.req.Verb = "get"
	}
	q := "command=" + queryEscape(cmd)
	if arg != "" {
		q += "&command=-c&command=" + queryEscape(arg)
	}
	q += "&container=" + container + "&stdin=true&stdout=true"
	if tty {
		q += "&tty=true"
	} else {
		q += "&stderr=true"
	}
	g.query(q)
	g.req.Status.Code = 101
}

// queryEscape is url.QueryEscape for the characters commands use.
func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&0xF])
		}
	}
	return b.String()
}

// rbacWrite is an admin creating, changing or removing RBAC objects.
func (g *Generator) rbacWrite(ns string) {
	switch g.rng.IntN(3) {
	case 0:
		name := "oncall-debug-" + strconv.Itoa(g.rng.IntN(20))
		g.res("create", "rbac.authorization.k8s.io", "v1", "rolebindings", ns, "", "")
		g.query("fieldManager=kubectl-create&fieldValidation=Strict")
		g.req.Obj.Name = name
		g.created()
		g.scratch[0] = appendBinding(g.scratch[0], "RoleBinding", meta{Name: name, Namespace: ns}, "ClusterRole", "view", "Group", "oidc:dev", "")
		g.req.RequestObject = g.scratch[0]
		if g.authz() && g.chance(0.2) {
			g.alreadyExists()
		}
	case 1:
		name := "app-reader"
		g.res("update", "rbac.authorization.k8s.io", "v1", "roles", ns, name, "")
		g.query("fieldManager=kubectl-edit&fieldValidation=Strict")
		uid, rv := uidFrom(g.rng), g.rv()
		g.req.Obj.UID, g.req.Obj.ResourceVersion = uid, rv
		g.scratch[0] = appendRole(g.scratch[0], meta{Name: name, Namespace: ns, UID: uid, RV: rv, Created: g.start - 60*24*int64(time.Hour)},
			[]string{""}, []string{"pods", "pods/log", "configmaps"}, []string{"get", "list", "watch"})
		g.req.RequestObject = g.scratch[0]
		g.authz()
	default:
		name := "oncall-debug-" + strconv.Itoa(g.rng.IntN(20))
		g.res("delete", "rbac.authorization.k8s.io", "v1", "rolebindings", ns, name, "")
		g.scratch[0] = appendDeleteOptions(g.scratch[0], "Background")
		g.req.RequestObject = g.scratch[0]
		if g.authz() && g.chance(0.3) {
			g.notFound()
		}
	}
}
