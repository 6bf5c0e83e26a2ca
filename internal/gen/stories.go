package gen

import (
	"strconv"
	"time"
)

// Story is one attack or incident sequence the generator can inject. The
// same facts are written up in testdata/stories/README.md.
type Story struct {
	ID   int
	Name string
	// Offset is the story's first event, relative to Config.Start.
	Offset time.Duration
	// Actors are the usernames that act in the story ("" = failed
	// authentication, which logs an empty user).
	Actors []string
	// Alerts are the seed rules (loki-audit-rules.yaml) that fire on it.
	Alerts  []string
	Summary string
}

// Story identifiers.
const (
	StoryStolenToken = 1 + iota
	StoryPrivEsc
	StoryNightRoleBindingDelete
	StoryTokenMinting
	StoryAnonymousProbe
)

// Terminal escape sequences carried by the anonymous-probe story, so that
// every place that prints event text can be tested against them.
const (
	// EscapeUserAgent sets the terminal title (OSC 0) and clears the
	// screen (CSI 2J).
	EscapeUserAgent = "\x1b]0;pwned\x07curl/8.5.0\x1b[2J"
	// EscapeObjectName clears the screen, paints in red and ends with a
	// right-to-left override (U+202E) so "exe.png" displays as "gnp.exe".
	EscapeObjectName = "\x1b[2J\x1b[1;31mOWNED\x1b[0m-\u202egnp.exe"
)

const (
	attackerIP   = "203.0.113.77"
	attackerUA   = "kubectl/v1.31.0 (darwin/arm64) kubernetes/9edcffc"
	probeIP      = "198.51.100.23"
	scanUA       = "python-requests/2.32.3"
	escalationNS = "kube-system"
	debugPod     = "node-debugger-7xk2p"
)

// Stories returns the stories in the order they happen.
func Stories() []Story {
	return []Story{
		{StoryStolenToken, "stolen service-account token", 12 * time.Minute,
			[]string{"system:serviceaccount:production:web-frontend"},
			[]string{"UnauthorizedAPIAccess", "SecretAccessed"},
			"The web-frontend pod's token is used from " + attackerIP + ": selfsubjectrulesreviews, a burst of 403s enumerating the cluster, then a list of the secrets in kube-system (allowed by a forgotten RoleBinding) and two secret reads."},
		{StoryPrivEsc, "privilege escalation to cluster-admin", 30 * time.Minute,
			[]string{"ci-bot", "bob@corp.example"},
			[]string{"RBACModification", "PodExecDetected", "SecretAccessed"},
			"ci-bot's credentials, used from bob's workstation, create ClusterRoleBinding ci-bot-debug (cluster-admin for bob); bob creates a privileged hostPID/hostNetwork pod in kube-system, execs into it, chroots into the host, execs into a production pod, reads a secret, then deletes the binding."},
		{StoryNightRoleBindingDelete, "RoleBinding deleted at night", 62 * time.Minute,
			[]string{"carol@corp.example", "system:serviceaccount:argocd:argocd-application-controller"},
			[]string{"RBACModification", "UnauthorizedAPIAccess"},
			"At 03:02 (with the default start) the on-call engineer deletes RoleBinding payments/payments-deployers; minutes later Argo CD's syncs of the payments namespace start failing with 403s."},
		{StoryTokenMinting, "token minting for default service accounts", 80 * time.Minute,
			[]string{"suspicious-user", "system:serviceaccount:payments:default"},
			[]string{"ServiceAccountTokenCreated", "UnauthorizedAPIAccess"},
			"suspicious-user mints serviceaccounts/token for the default service account of eight namespaces in under a minute, then uses the payments token from the same workstation."},
		{StoryAnonymousProbe, "anonymous probing with terminal escapes", 95 * time.Minute,
			[]string{"system:anonymous", ""},
			[]string{"UnauthorizedAPIAccess"},
			"An outside host probes the API: /version (allowed), anonymous 403s on discovery, secrets, pods and RBAC, 401s with a garbage bearer token, and two requests whose user agent and object name carry terminal escape sequences (OSC title, CSI clear screen) and a U+202E bidi override."},
	}
}

// storyStep is one request of a story.
type storyStep struct {
	at   int64
	node int
	fill func(g *Generator)
}

// buildStories expands every story into timed steps, sorted by time.
func buildStories(start int64) []storyStep {
	var steps []storyStep
	for _, s := range Stories() {
		base := start + int64(s.Offset)
		for i, st := range storySteps(s.ID) {
			steps = append(steps, storyStep{at: base + int64(st.after), node: s.ID + i, fill: st.fill})
		}
	}
	// Insertion sort: steps are nearly sorted and few.
	for i := 1; i < len(steps); i++ {
		for j := i; j > 0 && steps[j].at < steps[j-1].at; j-- {
			steps[j], steps[j-1] = steps[j-1], steps[j]
		}
	}
	return steps
}

type relStep struct {
	after time.Duration
	fill  func(g *Generator)
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func storySteps(id int) []relStep {
	switch id {
	case StoryStolenToken:
		return stolenToken()
	case StoryPrivEsc:
		return privEsc()
	case StoryNightRoleBindingDelete:
		return nightDelete()
	case StoryTokenMinting:
		return tokenMinting()
	case StoryAnonymousProbe:
		return anonymousProbe()
	}
	return nil
}

func webFrontendSA(g *Generator) *identity {
	// The token was taken from a pod on the first worker: its bound-token
	// extras name that node while the requests come from outside.
	n := g.w.Workers[0]
	return &identity{
		Username: "system:serviceaccount:production:web-frontend",
		UID:      "5b0f7e0c-1d3a-4c55-9a51-2f6f3c1e8d21",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:production", "system:authenticated"},
		Extra: []extraKV{
			{"authentication.kubernetes.io/credential-id", []string{"JTI=9c1f2a7e-64d0-4b8e-b1f4-0c7d9a3e5f11"}},
			{"authentication.kubernetes.io/node-name", []string{n.Name}},
			{"authentication.kubernetes.io/node-uid", []string{n.UID}},
			{"authentication.kubernetes.io/pod-name", []string{g.w.Workloads[0].Pods[0]}},
			{"authentication.kubernetes.io/pod-uid", []string{g.w.Workloads[0].PodUIDs[0]}},
		},
	}
}

func stolenToken() []relStep {
	sa := func(g *Generator) { g.who(webFrontendSA(g), attackerIP, attackerUA) }
	basic := rbacReason("ClusterRoleBinding", "system:basic-user", "system:basic-user", "Group", "system:authenticated")
	steps := []relStep{
		{0, func(g *Generator) {
			sa(g)
			g.res("create", "authorization.k8s.io", "v1", "selfsubjectrulesreviews", "", "", "")
			g.created()
			g.req.AuthReason = basic
		}},
		{ms(2_310), func(g *Generator) {
			sa(g)
			g.res("create", "authorization.k8s.io", "v1", "selfsubjectaccessreviews", "", "", "")
			g.created()
			g.req.AuthReason = basic
		}},
	}
	probes := []struct{ verb, group, res, ns string }{
		{"list", "", "namespaces", ""},
		{"list", "", "nodes", ""},
		{"list", "", "pods", ""},
		{"list", "", "secrets", ""},
		{"list", "rbac.authorization.k8s.io", "clusterroles", ""},
		{"list", "rbac.authorization.k8s.io", "clusterrolebindings", ""},
		{"list", "", "pods", "kube-system"},
		{"list", "apps", "deployments", "kube-system"},
		{"list", "", "serviceaccounts", "kube-system"},
		{"list", "", "configmaps", "kube-system"},
		{"list", "", "secrets", "default"},
		{"list", "", "secrets", "payments"},
		{"create", "", "pods", "production"},
		{"list", "", "secrets", "production"},
		{"get", "", "secrets", "kube-system"},
	}
	for i, p := range probes {
		steps = append(steps, relStep{ms(6_000 + i*2_750), func(g *Generator) {
			sa(g)
			v := "v1"
			g.res(p.verb, p.group, v, p.res, p.ns, "", "")
			if p.verb == "get" {
				g.req.Obj.Name = "kubeadm-certs"
				g.req.RequestURI += "/kubeadm-certs"
			} else if p.verb == "list" {
				g.query("limit=500")
			}
			g.forbid()
		}})
	}
	readerReason := "RBAC: allowed by RoleBinding \"legacy-monitoring-secrets/kube-system\" of ClusterRole \"secret-reader\" to ServiceAccount \"web-frontend/production\""
	steps = append(steps,
		relStep{ms(61_400), func(g *Generator) {
			sa(g)
			g.res("list", "", "v1", "pods", "production", "", "")
			g.query("limit=500")
			g.req.AuthReason = "RBAC: allowed by RoleBinding \"web-frontend/production\" of Role \"web-frontend\" to ServiceAccount \"web-frontend/production\""
		}},
		relStep{ms(75_020), func(g *Generator) {
			sa(g)
			g.res("list", "", "v1", "secrets", "kube-system", "", "")
			g.query("limit=500")
			g.req.AuthReason = readerReason
			g.scratch[1] = g.appendSecretList(g.scratch[1], "kube-system", []string{"aws-cloud-credentials", "etcd-backup-s3", "bootstrap-token-k3xq9a"})
			g.req.ResponseObject = g.scratch[1]
		}},
		relStep{ms(90_517), func(g *Generator) {
			sa(g)
			g.res("get", "", "v1", "secrets", "kube-system", "aws-cloud-credentials", "")
			g.req.AuthReason = readerReason
			g.scratch[1] = g.appendSecret(g.scratch[1], true, meta{Name: "aws-cloud-credentials", Namespace: "kube-system", UID: "0e6b4b1c-9f0a-4c1e-8f0d-52d1c3b7a901", RV: "1187", Created: g.start - 400*24*int64(time.Hour)}, "Opaque", "aws_access_key_id", "aws_secret_access_key")
			g.req.ResponseObject = g.scratch[1]
		}},
		relStep{ms(101_830), func(g *Generator) {
			sa(g)
			g.res("get", "", "v1", "secrets", "kube-system", "etcd-backup-s3", "")
			g.req.AuthReason = readerReason
			g.scratch[1] = g.appendSecret(g.scratch[1], true, meta{Name: "etcd-backup-s3", Namespace: "kube-system", UID: "7a3c9d2e-51b4-4f6a-9c8e-3b2a1d0f9e87", RV: "2204", Created: g.start - 300*24*int64(time.Hour)}, "Opaque", "bucket", "access_key", "secret_key")
			g.req.ResponseObject = g.scratch[1]
		}},
	)
	return steps
}

func privEsc() []relStep {
	bobIP := "10.20.7.88"
	bob := func(g *Generator) { g.who(g.w.Humans[1].ID, bobIP, kubectlMacUA) }
	admin := rbacReason("ClusterRoleBinding", "ci-bot-debug", "cluster-admin", "User", "bob@corp.example")
	return []relStep{
		{0, func(g *Generator) {
			g.who(g.w.CIBot, bobIP, kubectlMacUA)
			g.res("create", "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "", "", "")
			g.query("fieldManager=kubectl-create&fieldValidation=Strict")
			g.req.Obj.Name = "ci-bot-debug"
			g.created()
			g.req.AuthReason = rbacReason("ClusterRoleBinding", "ci-deployers", "ci-deployer", "Group", "ci-deployers")
			g.scratch[0] = appendBinding(g.scratch[0], "ClusterRoleBinding", meta{Name: "ci-bot-debug"}, "ClusterRole", "cluster-admin", "User", "bob@corp.example", "")
			g.req.RequestObject = g.scratch[0]
		}},
		{ms(21_004), func(g *Generator) {
			bob(g)
			g.res("list", "", "v1", "nodes", "", "", "")
			g.query("limit=500")
			g.req.AuthReason = admin
		}},
		{ms(45_310), func(g *Generator) {
			bob(g)
			g.res("create", "", "v1", "pods", escalationNS, "", "")
			g.query("fieldManager=kubectl-run")
			g.req.Obj.Name = debugPod
			g.created()
			g.req.AuthReason = admin
			g.scratch[0] = appendPrivilegedPod(g.scratch[0], meta{Name: debugPod, Namespace: escalationNS, Labels: [][2]string{{"run", "node-debugger"}}}, g.w.ControlPlane[0].Name)
			g.req.RequestObject = g.scratch[0]
			g.req.ExtraAnnotations = []extraAnnotation{
				{"pod-security.kubernetes.io/audit-violations", `would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true, hostPID=true), privileged (container "shell" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "shell" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "shell" must set securityContext.capabilities.drop=["ALL"]), restricted volume types (volume "host" uses restricted volume type "hostPath"), runAsNonRoot != true (pod or container "shell" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "shell" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
				{"pod-security.kubernetes.io/enforce-policy", "privileged:latest"},
			}
		}},
		{ms(74_880), func(g *Generator) {
			bob(g)
			g.exec(escalationNS, debugPod, "shell", "sh", "chroot /host cat /etc/kubernetes/admin.conf", false)
			g.req.AuthReason = admin
			g.req.Latency = int64(3_400 * time.Millisecond)
		}},
		{ms(131_250), func(g *Generator) {
			bob(g)
			g.exec(escalationNS, debugPod, "shell", "nsenter", "", true)
			g.req.RequestURI = "/api/v1/namespaces/" + escalationNS + "/pods/" + debugPod + "/exec?command=nsenter&command=-t&command=1&command=-m&command=-u&command=-i&command=-n&command=sh&container=shell&stdin=true&stdout=true&tty=true"
			g.req.AuthReason = admin
			g.req.Latency = int64(4 * time.Minute)
		}},
		{ms(190_020), func(g *Generator) {
			bob(g)
			wl := g.w.Workloads[1] // production/api
			g.exec(wl.NS, wl.Pods[0], wl.Container, "sh", "env | grep -i -E 'pass|secret|token' && cat /var/run/secrets/kubernetes.io/serviceaccount/token", false)
			g.req.AuthReason = admin
			g.req.Latency = int64(1_900 * time.Millisecond)
		}},
		{ms(240_500), func(g *Generator) {
			bob(g)
			g.res("get", "", "v1", "secrets", "production", "db-credentials", "")
			g.req.AuthReason = admin
			g.scratch[1] = g.appendSecret(g.scratch[1], true, meta{Name: "db-credentials", Namespace: "production", UID: "c2f1b0a9-7e6d-4c3b-8a29-1f0e9d8c7b6a", RV: "30311", Created: g.start - 200*24*int64(time.Hour)}, "Opaque", "username", "password")
			g.req.ResponseObject = g.scratch[1]
		}},
		{ms(301_740), func(g *Generator) {
			bob(g)
			g.res("delete", "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "", "ci-bot-debug", "")
			g.req.AuthReason = admin
			g.scratch[0] = appendDeleteOptions(g.scratch[0], "Background")
			g.req.RequestObject = g.scratch[0]
		}},
	}
}

func nightDelete() []relStep {
	carol := func(g *Generator) { g.who(g.w.Humans[2].ID, "10.20.4.31", kubectlUA) }
	sre := rbacReason("ClusterRoleBinding", "sre-cluster-admin", "cluster-admin", "Group", "oidc:sre")
	steps := []relStep{
		{0, func(g *Generator) {
			carol(g)
			g.res("list", "rbac.authorization.k8s.io", "v1", "rolebindings", "payments", "", "")
			g.query("limit=500")
			g.req.AuthReason = sre
		}},
		{ms(31_200), func(g *Generator) {
			carol(g)
			g.res("get", "rbac.authorization.k8s.io", "v1", "rolebindings", "payments", "payments-deployers", "")
			g.req.AuthReason = sre
		}},
		{ms(52_610), func(g *Generator) {
			carol(g)
			g.res("delete", "rbac.authorization.k8s.io", "v1", "rolebindings", "payments", "payments-deployers", "")
			g.req.AuthReason = sre
			g.scratch[0] = appendDeleteOptions(g.scratch[0], "Background")
			g.req.RequestObject = g.scratch[0]
		}},
	}
	for i := range 5 {
		steps = append(steps, relStep{time.Duration(3+2*i)*time.Minute + ms(417*i), func(g *Generator) {
			g.who(g.w.Argo, "10.0.2.63", "argocd-application-controller/v2.13.1 (linux/amd64)")
			g.res("patch", "apps", "v1", "deployments", "payments", "payments-api", "")
			g.query("fieldManager=argocd-controller&force=true")
			g.forbid()
		}})
	}
	return steps
}

func tokenMinting() []relStep {
	ip := "10.20.9.140"
	minter := rbacReason("ClusterRoleBinding", "contractors-sa-tokens", "serviceaccount-token-creator", "Group", "contractors")
	var steps []relStep
	for i, ns := range []string{"default", "staging", "production", "payments", "monitoring", "ci", "ingress-nginx", "kube-system"} {
		steps = append(steps, relStep{ms(i * 6_130), func(g *Generator) {
			g.who(g.w.Suspicious, ip, kubectlUA)
			g.res("create", "", "v1", "serviceaccounts", ns, "default", "token")
			g.created()
			g.req.AuthReason = minter
		}})
	}
	payDefault := &identity{
		Username: "system:serviceaccount:payments:default",
		UID:      "e4d3c2b1-a098-4f7e-8d6c-5b4a39281706",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:payments", "system:authenticated"},
		Extra:    []extraKV{{"authentication.kubernetes.io/credential-id", []string{"JTI=2d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a"}}},
	}
	steps = append(steps,
		relStep{ms(70_000), func(g *Generator) {
			g.who(payDefault, ip, "curl/8.5.0")
			g.res("list", "", "v1", "pods", "payments", "", "")
			g.req.AuthReason = "RBAC: allowed by RoleBinding \"default-view/payments\" of ClusterRole \"view\" to ServiceAccount \"default/payments\""
		}},
		relStep{ms(84_250), func(g *Generator) {
			g.who(payDefault, ip, "curl/8.5.0")
			g.res("list", "", "v1", "secrets", "payments", "", "")
			g.forbid()
		}},
	)
	return steps
}

func anonymousProbe() []relStep {
	anon := func(g *Generator, ua string) { g.who(g.w.Anonymous, probeIP, ua) }
	public := rbacReason("ClusterRoleBinding", "system:public-info-viewer", "system:public-info-viewer", "Group", "system:unauthenticated")
	steps := []relStep{
		{0, func(g *Generator) {
			anon(g, scanUA)
			g.nonResource("get", "/version")
			g.req.AuthReason = public
		}},
		{ms(1_210), func(g *Generator) { anon(g, scanUA); g.nonResource("get", "/api"); g.forbid() }},
		{ms(2_480), func(g *Generator) { anon(g, scanUA); g.nonResource("get", "/apis"); g.forbid() }},
		{ms(3_900), func(g *Generator) {
			anon(g, scanUA)
			g.res("list", "", "v1", "secrets", "kube-system", "", "")
			g.forbid()
		}},
		{ms(5_050), func(g *Generator) { anon(g, scanUA); g.res("list", "", "v1", "pods", "", "", ""); g.forbid() }},
		{ms(6_330), func(g *Generator) {
			anon(g, scanUA)
			g.res("list", "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "", "", "")
			g.forbid()
		}},
		{ms(7_700), func(g *Generator) { anon(g, scanUA); g.res("list", "", "v1", "nodes", "", "", ""); g.forbid() }},
		{ms(9_140), func(g *Generator) {
			anon(g, scanUA)
			g.res("create", "", "v1", "pods", "default", "", "")
			g.forbid()
		}},
	}
	for i, p := range []struct{ res, ns string }{{"secrets", "kube-system"}, {"secrets", "default"}, {"pods", ""}, {"nodes", ""}, {"configmaps", "kube-system"}, {"serviceaccounts", "kube-system"}} {
		steps = append(steps, relStep{ms(20_000 + i*1_130), func(g *Generator) {
			anon(g, "curl/8.5.0")
			g.res("list", "", "v1", p.res, p.ns, "", "")
			g.unauthorized("bearer")
		}})
	}
	steps = append(steps,
		relStep{ms(31_000), func(g *Generator) {
			anon(g, EscapeUserAgent)
			g.res("get", "", "v1", "pods", "default", EscapeObjectName, "")
			g.forbid()
		}},
		relStep{ms(32_500), func(g *Generator) {
			anon(g, EscapeUserAgent)
			g.res("get", "", "v1", "secrets", "kube-system", EscapeObjectName, "")
			g.unauthorized("bearer")
		}},
		relStep{ms(40_000), func(g *Generator) {
			anon(g, "curl/8.5.0")
			g.nonResource("get", "/healthz")
			g.req.AuthReason = public
		}},
	)
	for i := range 4 {
		steps = append(steps, relStep{ms(45_000 + i*15_000), func(g *Generator) {
			anon(g, scanUA)
			g.res("get", "", "v1", "namespaces", "", pick(g, []string{"kube-system", "default", "production", "payments"}), "")
			g.query("timeout=" + strconv.Itoa(5+i) + "s")
			g.unauthorized("bearer")
		}})
	}
	return steps
}
